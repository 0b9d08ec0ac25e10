import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openAuditLog } from '../../agent/policy/audit.js';

describe('policy audit log', () => {
  it('writes one JSON line per entry and rotates by size, keeping a bounded number of files', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'ca-audit-')), 'sub', 'audit.jsonl');
    const audit = openAuditLog({ path, maxBytes: 200, keep: 2 });
    for (let i = 0; i < 40; i++) audit.write({ i, policy: 'p', outcome: 'logged' });
    audit.close();
    expect(existsSync(`${path}.1`)).toBe(true);
    expect(existsSync(`${path}.2`)).toBe(true);
    expect(existsSync(`${path}.3`)).toBe(false);
    const files = [`${path}.2`, `${path}.1`, path];
    for (const f of files) expect(statSync(f).size).toBeLessThanOrEqual(200);
    const entries = files.flatMap((f) => readFileSync(f, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { i: number }));
    // The newest entries, in order, without gaps: rotation loses only the oldest.
    const seen = entries.map((e) => e.i);
    expect(seen.at(-1)).toBe(39);
    expect(seen).toEqual(seen.map((_, k) => seen[0]! + k));
  });

  it('appends to an existing log after a restart', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'ca-audit-')), 'audit.jsonl');
    const first = openAuditLog({ path, maxBytes: 10_000, keep: 1 });
    first.write({ n: 1 });
    first.close();
    const second = openAuditLog({ path, maxBytes: 10_000, keep: 1 });
    second.write({ n: 2 });
    second.close();
    expect(readFileSync(path, 'utf8')).toBe('{"n":1}\n{"n":2}\n');
  });
});
