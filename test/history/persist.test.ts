import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createHistory } from '../../agent/history/history.js';
import { decodeHistory, encodeHistory, HISTORY_FILE, loadHistory, saveHistory } from '../../agent/history/persist.js';

const opts = { rawSeconds: 600, sampleSeconds: 5, bucketSeconds: 60, retentionSeconds: 3600, maxSeries: 100, families: ['contention_'] };
const T0 = 1_700_000_000_000;

function filled() {
  const h = createHistory(opts);
  // 50 minutes at 5 s: the raw ring has wrapped, and buckets reach back past it
  for (let i = 0; i < 600; i++) {
    h.recordPoint('process:private_bytes', { pid: '42', start: '7', name: 'app', group: 'web' }, T0 + i * 5000, 1000 + i + (i % 7));
    h.recordPoint('host:boot_time', {}, T0 + i * 5000, T0 - 86_400_000);
  }
  return h;
}

describe('the persisted history', () => {
  it('reads back exactly what it held: raw points, bucket floors and all, and the detector state', () => {
    const h = filled();
    const state = { 'process|app[42]|private_bytes': { suspectedAt: T0 + 1000, leakSince: T0 } };
    const back = decodeHistory(encodeHistory(h.snapshot(), state, T0 + 3_000_000));
    expect(back.detector).toEqual(state);
    const restored = createHistory(opts);
    restored.restore(back.series);
    for (const name of ['process:private_bytes', 'host:boot_time']) {
      expect(restored.selectFloors(name, 0, Infinity)).toEqual(h.selectFloors(name, 0, Infinity));
      expect(restored.select(name, 0, Infinity)).toEqual(h.select(name, 0, Infinity));
    }
    // and carries on recording where it left off
    restored.recordPoint('process:private_bytes', { pid: '42', start: '7', name: 'app', group: 'web' }, T0 + 600 * 5000, 5000);
    const after = restored.select('process:private_bytes', 0, Infinity)[0]!.points;
    expect(after.at(-1)).toEqual({ t: T0 + 600 * 5000, v: 5000 });
  });

  it('restores into smaller rings by keeping the newest points', () => {
    const h = filled();
    const small = createHistory({ ...opts, rawSeconds: 60, retentionSeconds: 600 });
    small.restore(h.snapshot());
    const pts = small.select('process:private_bytes', 0, Infinity)[0]!.points;
    expect(pts.at(-1)).toEqual(h.select('process:private_bytes', 0, Infinity)[0]!.points.at(-1));
    expect(pts.length).toBeLessThan(30);
  });

  it('is written atomically (no temporary file left) and read back from the state directory', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'ca-persist-')), 'state');
    const h = filled();
    const bytes = await saveHistory(dir, h, { a: {} }, T0);
    expect(readdirSync(dir)).toEqual([HISTORY_FILE]);
    expect(readFileSync(join(dir, HISTORY_FILE)).length).toBe(bytes);
    const loaded = await loadHistory(dir, 10 * bytes);
    expect(loaded.ok && loaded.persisted.series.length).toBe(2);
  });

  it('writes a history of more series than one write call takes buffers (IOV_MAX, 1,024) as encodeHistory encodes it', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'ca-persist-')), 'state');
    const h = createHistory({ ...opts, maxSeries: 400 });
    // 400 series of six arrays each: 2,400 buffers in one save.
    for (let i = 0; i < 50; i++) for (let s = 0; s < 400; s++) h.recordPoint('process:private_bytes', { pid: String(s) }, T0 + i * 5000, s * 1000 + i);
    const bytes = await saveHistory(dir, h, { n: 400 }, T0);
    const file = readFileSync(join(dir, HISTORY_FILE));
    expect(file.equals(encodeHistory(h.snapshot(), { n: 400 }, T0))).toBe(true);
    expect(file.length).toBe(bytes);
    const loaded = await loadHistory(dir, 10 * bytes);
    expect(loaded.ok && loaded.persisted.series.length).toBe(400);
  });

  it('ignores, with the reason, a file that is absent, cut short, not its own, or too large', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ca-persist-'));
    expect(await loadHistory(dir, 1e6)).toMatchObject({ ok: false, absent: true });
    const good = encodeHistory(filled().snapshot(), {}, T0);
    const cases: Array<[Buffer, RegExp]> = [
      [good.subarray(0, good.length - 3), /the data is cut short/],
      [good.subarray(0, 40), /the header is cut short/],
      [Buffer.from('{"not":"ours"}'), /not a history file of this version/],
      [Buffer.concat([good, Buffer.alloc(8)]), /8 bytes past the data/],
    ];
    for (const [bytes, reason] of cases) {
      writeFileSync(join(dir, HISTORY_FILE), bytes);
      const r = await loadHistory(dir, 1e7);
      expect(r.ok).toBe(false);
      expect(() => decodeHistory(bytes)).toThrow(reason);
    }
    writeFileSync(join(dir, HISTORY_FILE), good);
    expect(await loadHistory(dir, 100)).toMatchObject({ ok: false, absent: false, reason: expect.stringMatching(/more than the configured history can hold/) });
  });
});
