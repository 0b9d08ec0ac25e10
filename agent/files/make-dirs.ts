import { mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * `mkdir -p`, without Node's recursive mkdir: that one retries for ever when the kernel answers
 * ENOENT for a directory whose parent exists, as procfs does (an audit path under /proc hung the
 * agent). Here each level is tried once, so any path ends in a directory or an error.
 */
export function makeDirs(path: string, mode?: number): void {
  const missing: string[] = [];
  let dir = resolve(path);
  for (;;) {
    try {
      mkdirSync(dir, { mode });
      break;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') {
        if (!statSync(dir).isDirectory()) throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${dir}'`), { code: 'ENOTDIR' });
        break;
      }
      const parent = dirname(dir);
      if (code !== 'ENOENT' || parent === dir) throw err;
      missing.push(dir);
      dir = parent;
    }
  }
  for (const d of missing.reverse()) mkdirSync(d, { mode });
}

/** Where no file of the agent's can live: kernel pseudo-filesystems answer writes with errors or worse. */
const PSEUDO_FILESYSTEMS = ['/proc', '/sys', '/dev'];

/** Why a configured path for files the agent writes cannot work, or undefined. */
export function writablePathProblem(path: string): string | undefined {
  const full = resolve(path);
  const under = PSEUDO_FILESYSTEMS.find((root) => full === root || full.startsWith(`${root}/`));
  return under ? `expected a path on a real filesystem, not under ${under} (got "${path}")` : undefined;
}
