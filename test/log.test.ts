import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, toLogfmt } from '../agent/log.js';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, stream };
}

describe('toLogfmt', () => {
  it('puts ts, level and msg first and quotes values that need it', () => {
    const line = toLogfmt(JSON.stringify({ level: 'warn', time: '2026-01-01T00:00:00.000Z', msg: 'collector failed', collector: 'pressure', err: 'no such file' }));
    expect(line).toBe('ts=2026-01-01T00:00:00.000Z level=warn msg="collector failed" collector=pressure err="no such file"\n');
  });

  it('writes nested values as JSON', () => {
    const line = toLogfmt(JSON.stringify({ level: 'error', time: 't', msg: 'reload failed', errors: ['a: b', 'c'] }));
    expect(line).toContain('errors="[\\"a: b\\",\\"c\\"]"');
  });
});

describe('createLogger', () => {
  it('writes logfmt or JSON lines at or above the level', async () => {
    const text = capture();
    const logfmt = createLogger('info', 'logfmt', text.stream);
    logfmt.debug('hidden');
    logfmt.info({ address: ':9947' }, 'listening');
    const json = capture();
    createLogger('warn', 'json', json.stream).warn({ collector: 'cpu' }, 'slow');
    await new Promise((r) => setImmediate(r));
    expect(text.lines).toHaveLength(1);
    expect(text.lines[0]).toMatch(/^ts=\S+ level=info msg=listening address=:9947$/);
    expect(JSON.parse(json.lines[0]!)).toMatchObject({ level: 'warn', msg: 'slow', collector: 'cpu' });
  });
});
