import { mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { History, SeriesSnapshot } from './history.js';

/**
 * The agent's memory on disk, so a restart of the agent or a reboot of the host does not forget
 * what it saw: growth that every reboot resets is visible only across boots. One file in the state
 * directory, written whole to a temporary file, flushed and renamed over the old one (a crash
 * mid-write leaves the previous file); anything that does not read back as written is ignored.
 *
 * Layout: the magic line, a 4-byte little-endian length, a JSON header (the series, their point
 * counts and labels, and the detector's state), then every series' float64 arrays in header order.
 */
const MAGIC = Buffer.from('contention-agent history v1\n');
export const HISTORY_FILE = 'history.bin';

export interface Persisted {
  readonly savedAt: number;
  readonly series: SeriesSnapshot[];
  /** Whatever the detector hands over (its hysteresis state). */
  readonly detector: unknown;
}

interface HeaderSeries {
  name: string;
  labels: Record<string, string>;
  raw: number;
  buckets: number;
  bucketEnd: number | null;
}

export function encodeHistory(series: readonly SeriesSnapshot[], detector: unknown, savedAt: number): Buffer {
  return Buffer.concat(historyParts(series, detector, savedAt));
}

/** What encodeHistory writes, as views over the series' arrays: written as they are, the history is copied once (the snapshot), not twice. */
function historyParts(series: readonly SeriesSnapshot[], detector: unknown, savedAt: number): Buffer[] {
  const header = {
    savedAt,
    detector,
    series: series.map((s): HeaderSeries => ({ name: s.name, labels: { ...s.labels }, raw: s.rawT.length, buckets: s.bucketT.length, bucketEnd: Number.isFinite(s.bucketEnd) ? s.bucketEnd : null })),
  };
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(4);
  length.writeUInt32LE(json.length);
  const arrays: Buffer[] = [];
  for (const s of series) {
    for (const a of [s.rawT, s.rawV, s.bucketT, s.bucketLast, s.bucketMin, s.bucketMax]) arrays.push(Buffer.from(a.buffer, a.byteOffset, a.byteLength));
  }
  return [MAGIC, length, json, ...arrays];
}

/** Reads back what encodeHistory wrote; throws an Error saying what is wrong with anything else. */
export function decodeHistory(buf: Buffer): Persisted {
  if (buf.length < MAGIC.length + 4 || !buf.subarray(0, MAGIC.length).equals(MAGIC)) throw new Error('not a history file of this version');
  const length = buf.readUInt32LE(MAGIC.length);
  const start = MAGIC.length + 4;
  if (start + length > buf.length) throw new Error('the header is cut short');
  let header: { savedAt: number; detector: unknown; series: HeaderSeries[] };
  try {
    header = JSON.parse(buf.subarray(start, start + length).toString('utf8'));
  } catch (err) {
    throw new Error(`the header is not JSON (${(err as Error).message})`);
  }
  if (!header || typeof header.savedAt !== 'number' || !Array.isArray(header.series)) throw new Error('the header lacks its fields');
  let at = start + length;
  const take = (n: number): Float64Array => {
    if (!Number.isInteger(n) || n < 0 || at + n * 8 > buf.length) throw new Error('the data is cut short');
    const out = new Float64Array(n);
    // Copied: the file buffer need not be 8-byte aligned.
    Buffer.from(out.buffer).set(buf.subarray(at, at + n * 8));
    at += n * 8;
    return out;
  };
  const series = header.series.map((h): SeriesSnapshot => {
    if (typeof h.name !== 'string' || typeof h.labels !== 'object' || h.labels === null) throw new Error('a series lacks its name or labels');
    return {
      name: h.name,
      labels: h.labels,
      rawT: take(h.raw),
      rawV: take(h.raw),
      bucketT: take(h.buckets),
      bucketLast: take(h.buckets),
      bucketMin: take(h.buckets),
      bucketMax: take(h.buckets),
      bucketEnd: h.bucketEnd ?? -Infinity,
    };
  });
  if (at !== buf.length) throw new Error(`${buf.length - at} bytes past the data`);
  return { savedAt: header.savedAt, series, detector: header.detector };
}

/** Writes atomically: a temporary file beside the target, flushed, then renamed over it. */
export async function saveHistory(dir: string, history: History, detector: unknown, now = Date.now()): Promise<number> {
  await mkdir(dir, { recursive: true, mode: 0o750 });
  const file = join(dir, HISTORY_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  const parts = historyParts(history.snapshot(), detector, now);
  const bytes = parts.reduce((n, b) => n + b.length, 0);
  const handle = await open(tmp, 'w', 0o640);
  try {
    const { bytesWritten } = await handle.writev(parts);
    if (bytesWritten !== bytes) throw new Error(`${tmp}: wrote ${bytesWritten} of ${bytes} bytes`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  return bytes;
}

/**
 * Loads the persisted history, or says why not: absent (first start), unreadable, too large or
 * corrupt. Never throws: a bad file must not keep the agent from starting.
 */
export async function loadHistory(dir: string, maxBytes: number): Promise<{ ok: true; persisted: Persisted } | { ok: false; absent: boolean; reason: string }> {
  const file = join(dir, HISTORY_FILE);
  try {
    const size = (await stat(file)).size;
    if (size > maxBytes) return { ok: false, absent: false, reason: `${file} is ${size} bytes, more than the configured history can hold (${maxBytes}); ignored` };
    return { ok: true, persisted: decodeHistory(await readFile(file)) };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { ok: false, absent: true, reason: `${file} does not exist yet` };
    return { ok: false, absent: false, reason: `${file}: ${code ?? (err as Error).message}; ignored` };
  }
}
