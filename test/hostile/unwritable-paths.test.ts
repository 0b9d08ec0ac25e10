import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeDirs } from '../../agent/files/make-dirs.js';
import { CLI, writeConfig } from '../helpers/agent.js';

/** Runs a snippet against the built modules in a child with a deadline: a hang is a kill, not a stuck test. */
function runBuilt(body: string): { status: number | null; signal: string | null; out: string } {
  const modules = dirname(CLI);
  const script = `const { openAuditLog } = await import(${JSON.stringify(join(modules, 'policy/audit.js'))});\n${body}`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 10_000, killSignal: 'SIGKILL' });
  return { status: r.status, signal: r.signal, out: r.stdout + r.stderr };
}

describe('a path the agent cannot write is an error, never a hang', () => {
  it('an audit log under /proc fails its write with an error instead of spinning in mkdir', () => {
    const r = runBuilt(`
      const audit = openAuditLog({ path: '/proc/contention-agent-test/a/audit.jsonl', maxBytes: 1000, keep: 1 });
      try { audit.write({ n: 1 }); console.log('written'); } catch (err) { console.log('refused', err.code); }`);
    expect(r.signal, r.out).toBeNull();
    expect(r.out).toMatch(/^refused E/);
  });

  it('makeDirs creates what is missing, refuses a file in the way, and fails under /proc', () => {
    const base = mkdtempSync(join(tmpdir(), 'ca-dirs-'));
    makeDirs(join(base, 'a/b/c'));
    makeDirs(join(base, 'a/b/c'));
    writeFileSync(join(base, 'file'), '');
    expect(() => makeDirs(join(base, 'file/x'))).toThrow(/ENOTDIR/);
    expect(() => makeDirs('/proc/contention-agent-test/x/y')).toThrow(/ENOENT/);
  });

  it('check-config refuses an audit log or evidence directory on /proc, /sys or /dev, naming the path', () => {
    const file = writeConfig('enforcement:\n  audit_log:\n    path: /proc/self/audit.jsonl\n  evidence_dir: /sys/evidence\n');
    const r = spawnSync(process.execPath, [CLI, 'check-config', file], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${file}:3: enforcement.audit_log.path: expected a path on a real filesystem, not under /proc (got "/proc/self/audit.jsonl")`);
    expect(r.stderr).toContain(`${file}:4: enforcement.evidence_dir: expected a path on a real filesystem, not under /sys`);
  });
});
