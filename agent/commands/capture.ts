import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { UsageError } from '../cli/args.js';
import { createCapturer, createPlatformDumper, type CaptureRecord } from '../capture/capture.js';
import { captureDirName } from '../capture/dir-name.js';
import { assessCaptureReadiness } from '../capture/doctor.js';
import { writeHostSnapshot } from '../capture/host-snapshot.js';
import type { Config } from '../config/schema.js';
import { openAuditLog } from '../policy/audit.js';
import { createOneShotSampler } from '../agent.js';
import { currentPlatform } from '../platform/platform.js';
import { formatBytes } from '../text/bytes.js';

/**
 * Dumps one running process on demand, with a host snapshot, into a new evidence directory, within
 * the configured bounds, and audits it. Exit 0 when the dump was written, 1 when it was not.
 */
export async function capture(config: Config, log: Logger, pidArg: string | undefined, json: boolean): Promise<number> {
  const pid = Number(pidArg);
  if (pidArg === undefined || !Number.isInteger(pid) || pid <= 0) throw new UsageError('capture needs the pid of a running process (contention-agent capture PID)');
  const now = Date.now();
  const dir = join(config.enforcement.evidence_dir, captureDirName(now, pid, 'on_demand'));
  // One sample gives the process's size as the agent measures it, the top processes and the pool figures.
  const runtime = createOneShotSampler(config, currentPlatform(), log);
  let sample;
  try {
    sample = await runtime.sampler.sampleOnce();
  } finally {
    runtime.stop();
  }
  const row = sample.facts.processes?.rows.find((r) => r.pid === pid);
  const capturer = createCapturer({ config: () => config, dumper: await createPlatformDumper(config) });
  const record = await capturer.capture({
    target: { pid, ...(row ? { startTime: row.startTime } : {}) },
    name: row?.comm ?? String(pid),
    trigger: 'on_demand',
    dir,
    ...(row ? { known: { privateBytes: row.privateBytes } } : {}),
  });
  const readiness = await assessCaptureReadiness(config).catch(() => []);
  writeHostSnapshot(dir, { now, procfs: config.paths.procfs, sample, readiness });
  writeFileSync(join(dir, 'capture.json'), `${JSON.stringify(record, null, 2)}\n`);
  auditCapture(config, record, log);
  if (json) process.stdout.write(`${JSON.stringify(record, null, 2)}\n`);
  else process.stdout.write(describeCapture(record));
  return record.outcome === 'captured' ? 0 : 1;
}

/** Appends the capture to the policy audit log, as stops are; a log that cannot be written is reported, not fatal. */
export function auditCapture(config: Config, record: CaptureRecord, log: Logger): void {
  const a = config.enforcement.audit_log;
  try {
    const audit = openAuditLog({ path: a.path, maxBytes: a.max_bytes, keep: a.keep });
    try {
      audit.write({ ...record, time: new Date(record.time).toISOString(), policy: '', criteria: record.criteria ?? '', action: 'capture', process: record.name });
    } finally {
      audit.close();
    }
  } catch (err) {
    log.warn({ err: (err as Error).message, path: a.path }, 'capture audit log write failed');
  }
}

export function describeCapture(r: CaptureRecord): string {
  if (r.outcome === 'captured') {
    return `Dumped ${r.name} (pid ${r.pid}) to ${r.file} (${formatBytes(r.bytes ?? 0)} in ${r.seconds?.toFixed(1)} s); it keeps running.\nEvidence: ${r.dir}\n${r.pruned.length ? `Pruned ${r.pruned.length} older dump(s) to stay within the limits.\n` : ''}`;
  }
  return `No dump of ${r.name} (pid ${r.pid}): ${r.outcome}${r.reason ? ` (${r.reason})` : ''}.\nEvidence (host snapshot): ${r.dir}\n`;
}
