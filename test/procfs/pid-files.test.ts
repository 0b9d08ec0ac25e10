import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readPidFile } from '../../agent/procfs/pid-files.js';
import { parsePidStatBytes } from '../../agent/procfs/pid-stat.js';
import { parsePidStatusBytes } from '../../agent/procfs/pid-status.js';

describe('readPidFile', () => {
  it('reads a live /proc file whole, the same bytes as a plain read', () => {
    const { buffer, length } = readPidFile(`/proc/${process.pid}/status`);
    const text = buffer.toString('latin1', 0, length);
    expect(text.startsWith('Name:')).toBe(true);
    expect(text.endsWith('\n')).toBe(true);
    expect(parsePidStatusBytes(buffer, length).threads).toBeGreaterThan(0);
    const stat = readPidFile(`/proc/${process.pid}/stat`);
    expect(parsePidStatBytes(stat.buffer, stat.length).pid).toBe(process.pid);
  });

  it('grows its buffer for a file larger than it and loses nothing', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ca-pidfile-')), 'big');
    const content = Buffer.from(Array.from({ length: 9000 }, (_, i) => `line ${i}\n`).join(''), 'latin1');
    writeFileSync(file, content);
    const { buffer, length } = readPidFile(file);
    expect(length).toBe(content.length);
    expect(buffer.subarray(0, length).equals(readFileSync(file))).toBe(true);
  });
});
