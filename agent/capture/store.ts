import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { KeptDump } from './plan.js';

const DUMP_FILE = /^process-\d+\.(core|dmp)$/;

/** The name of a dump in its evidence directory. */
export const dumpFileName = (pid: number, extension: 'core' | 'dmp'): string => `process-${pid}.${extension}`;

/** Every dump kept under the evidence root (one level of evidence directories), oldest first. */
export function listKeptDumps(root: string): KeptDump[] {
  const out: KeptDump[] = [];
  let dirs: string[];
  try {
    dirs = readdirSync(root);
  } catch {
    return out;
  }
  for (const d of dirs) {
    let files: string[];
    try {
      files = readdirSync(join(root, d));
    } catch {
      continue;
    }
    for (const f of files) {
      if (!DUMP_FILE.test(f)) continue;
      try {
        const s = statSync(join(root, d, f));
        out.push({ path: join(root, d, f), bytes: Math.max(s.size, s.blocks * 512), time: s.mtimeMs });
      } catch {
        // pruned meanwhile
      }
    }
  }
  return out.sort((a, b) => a.time - b.time);
}

/** Removes dumps; returns the ones that could not be removed (a file another process holds open on Windows). */
export function removeDumps(dumps: readonly KeptDump[]): KeptDump[] {
  const left: KeptDump[] = [];
  for (const d of dumps) {
    try {
      rmSync(d.path, { force: true });
    } catch {
      left.push(d);
    }
  }
  return left;
}
