import type { Config } from '../config/schema.js';
import { readLinuxCaptureFacts } from '../platform/linux/capture-facts.js';
import { judgeLinux } from './linux-checks.js';
import type { Check } from './verdict.js';
import { judgeWindows } from './windows-checks.js';

/** Judges whether this host can take the dumps an investigation needs, on the platform it runs on. */
export async function assessCaptureReadiness(config: Config, platform: NodeJS.Platform = process.platform): Promise<Check[]> {
  const opts = { evidenceDir: config.enforcement.evidence_dir, maxProcessBytes: config.capture.max_process_bytes, minFreeBytes: config.capture.min_free_bytes };
  if (platform === 'win32') {
    const { readWindowsCaptureFacts } = await import('../platform/windows/capture-facts.js');
    return judgeWindows(await readWindowsCaptureFacts(opts));
  }
  return judgeLinux(readLinuxCaptureFacts({ ...opts, root: rootOf(config.paths.procfs) }));
}

/** The root a host's /proc sits under, so `--path.procfs=/host/proc` reads the host's files (a container). */
function rootOf(procfs: string): string {
  return procfs.endsWith('/proc') ? procfs.slice(0, -'/proc'.length) || '/' : '/';
}
