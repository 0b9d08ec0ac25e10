import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../agent/analyze/input-error.js';
import { readPdhCsv } from '../../agent/analyze/pdh-csv.js';
import { parseQueryRange } from '../../agent/analyze/query-range.js';
import { parseConfigText } from '../../agent/config/load.js';
import { createBasicAuthCheck } from '../../agent/http/basic-auth.js';
import { parseDiskstats } from '../../agent/procfs/diskstats.js';
import { parseLoadavg } from '../../agent/procfs/loadavg.js';
import { parseMeminfo } from '../../agent/procfs/meminfo.js';
import { parsePidStat } from '../../agent/procfs/pid-stat.js';
import { parsePidStatm } from '../../agent/procfs/pid-statm.js';
import { parsePidStatus } from '../../agent/procfs/pid-status.js';
import { parsePressure } from '../../agent/procfs/pressure.js';
import { parseStat } from '../../agent/procfs/stat.js';
import { parseRuleText } from '../../agent/rules/load.js';
import { readFileSync } from 'node:fs';
import { fixture } from '../procfs/fixture.js';

// Untrusted text: real captures with their bytes mutated (cut, spliced, digits swapped for signs,
// huge numbers), and strings from nothing. Each parser must either return values a kernel could
// produce (finite, never a negative size) or throw its own error: never a TypeError or RangeError
// from reading past what it checked, never a hang.
const RUNS = { numRuns: 300 };

const mutate = (base: string) =>
  fc
    .tuple(fc.nat(base.length), fc.nat(base.length), fc.constantFrom('', '-', '-1', '99999999999999999999999999', ' ', '\n', '\0', ':', '(', ')', 'NaN', 'Infinity', fc.sample(fc.string(), 1)[0]!))
    .map(([a, b, insert]) => base.slice(0, Math.min(a, b)) + insert + base.slice(Math.max(a, b)));
const textFrom = (base: string) => fc.oneof(mutate(base), fc.string(), fc.string({ unit: 'binary' }));

/** Every number reachable in a parsed value. */
function numbers(value: unknown, out: number[] = []): number[] {
  if (typeof value === 'number') out.push(value);
  else if (value instanceof Map) for (const v of value.values()) numbers(v, out);
  else if (Array.isArray(value)) for (const v of value) numbers(v, out);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) numbers(v, out);
  return out;
}

/** Parsed output is finite and non-negative, or the parser threw a plain Error naming the problem. */
function holds(parse: () => unknown): boolean {
  let parsed: unknown;
  try {
    parsed = parse();
  } catch (err) {
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).constructor.name, (err as Error).stack).toMatch(/^(Error|InputError)$/);
    return true;
  }
  for (const n of numbers(parsed)) {
    expect(Number.isFinite(n), String(n)).toBe(true);
    expect(n).toBeGreaterThanOrEqual(0);
  }
  return true;
}

const fixtureText = (name: string): string => fixture(`${name}.txt`);

const PROC: Array<[string, string, (text: string) => unknown]> = [
  ['meminfo', 'meminfo', parseMeminfo],
  ['stat', 'stat', parseStat],
  ['diskstats', 'diskstats', parseDiskstats],
  ['loadavg', 'loadavg', parseLoadavg],
  ['pressure', 'pressure-cpu', parsePressure],
  ['pid stat', 'pid-stat', parsePidStat],
  ['pid statm', 'pid-statm', (t) => parsePidStatm(t, 4096)],
  ['pid status', 'pid-status', parsePidStatus],
];

describe('parsers of untrusted text (property-based)', () => {
  for (const [what, source, parse] of PROC) {
    it(`/proc ${what}: kernel-possible values or its own error`, () => {
      // The per-process files are this process's own, read live; the host files are recorded captures.
      const base = source.startsWith('pid-') ? readFileSync(`/proc/self/${source.slice(4)}`, 'latin1') : fixtureText(source);
      fc.assert(fc.property(textFrom(base), (text) => holds(() => parse(text))), RUNS);
    });
  }

  it('query_range JSON: series or an InputError', () => {
    const base = JSON.stringify({ status: 'success', data: { resultType: 'matrix', result: [{ metric: { __name__: 'x', pid: '1' }, values: [[1, '5'], [2, '6']] }] } });
    fc.assert(
      fc.property(fc.oneof(textFrom(base), fc.json()), (text) => {
        try {
          parseQueryRange(text, 'q.json');
        } catch (err) {
          expect(err).toBeInstanceOf(InputError);
        }
        return true;
      }),
      RUNS,
    );
  });

  it('PDH-CSV: a log or an InputError naming the line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ca-pdh-prop-'));
    const base = '"(PDH-CSV 4.0) (Coordinated Universal Time)(0)","\\\\HOST\\Memory\\Pool Paged Bytes"\r\n"01/02/2026 10:00:00.000","12345"\r\n"01/02/2026 10:00:15.000","12399"\r\n';
    let i = 0;
    await fc.assert(
      fc.asyncProperty(textFrom(base), async (text) => {
        const file = join(dir, `${i++}.csv`);
        writeFileSync(file, text);
        try {
          await readPdhCsv(file);
        } catch (err) {
          expect(err, String(err)).toBeInstanceOf(InputError);
        }
        return true;
      }),
      { numRuns: 100 },
    );
  });

  it('YAML configs: a config or errors naming the file, never a throw', () => {
    const base = 'sampling:\n  interval: 5s\nweb:\n  listen_address: ":9947"\ncriteria:\n  - name: web\n    include: [{ cmdline: "nginx|(?i)apache" }]\nx: &a [1]\ny: [*a, *a]\n';
    fc.assert(
      fc.property(textFrom(base), (text) => {
        const result = parseConfigText(text, 'agent.yaml');
        if (!result.ok) for (const e of result.errors) expect(e.startsWith('agent.yaml')).toBe(true);
        return true;
      }),
      RUNS,
    );
  });

  it('rule files: groups or errors, never a throw', () => {
    const base = 'groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: contention_kernel_table_free_entries{table=~"(?i)system_ptes"} < 10000\n        for: 5m\n        labels: { severity: critical }\n';
    fc.assert(
      fc.property(textFrom(base), (text) => {
        const result = parseRuleText(text, 'r.yml');
        expect(typeof result.ok).toBe('boolean');
        return true;
      }),
      RUNS,
    );
  });

  it('HTTP Authorization headers: an outcome, never a rejection', async () => {
    const check = createBasicAuthCheck(new Map([['prom', '$2b$04$abcdefghijklmnopqrstuu5Ut1vgJ4hpuFl5nTXbCaaXd7XHkM0vq']]), { verify: async () => false });
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.base64String().map((b) => `Basic ${b}`), fc.string().map((s) => `Basic ${Buffer.from(s).toString('base64')}`)),
        async (header) => {
          expect(['ok', 'denied', 'limited', 'busy']).toContain(await check(header, 'client'));
          return true;
        },
      ),
      RUNS,
    );
  });
});
