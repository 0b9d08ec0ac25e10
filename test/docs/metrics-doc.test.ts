import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { catalog } from '../../agent/metrics/catalog.js';

const doc = readFileSync(new URL('../../docs/metrics.md', import.meta.url), 'utf8');
const documented = new Set([...doc.matchAll(/^\| `(contention_[a-z0-9_]+)` \|/gm)].map((m) => m[1]));

describe('docs/metrics.md', () => {
  it('has a row for every metric the agent exports', () => {
    const missing = Object.keys(catalog).filter((name) => !documented.has(name));
    expect(missing).toEqual([]);
  });

  it('documents no metric the agent does not export', () => {
    const stale = [...documented].filter((name) => !(name in catalog));
    expect(stale).toEqual([]);
  });

  it('states each row\'s type as the catalogue does', () => {
    for (const m of doc.matchAll(/^\| `(contention_[a-z0-9_]+)` \| (gauge|counter) \|/gm)) {
      const def = catalog[m[1] as keyof typeof catalog];
      if (def) expect({ name: m[1], type: m[2] }).toEqual({ name: m[1], type: def.type });
    }
  });
});
