import { mkdirSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * A FIFO of request bodies on disk, bounded in bytes. Each body is one segment file, written under a
 * temporary name, synced, then renamed: a crash leaves whole segments or none, never half of one.
 * The name carries the sequence number, the sample count and the oldest sample's time, so a restart
 * recovers the queue (and what a drop loses) from the directory listing alone.
 */
export interface Segment {
  readonly seq: number;
  readonly samples: number;
  /** Unix ms of the segment's oldest sample. */
  readonly oldest: number;
  readonly bytes: number;
  readonly file: string;
}

export interface Dropped {
  readonly segments: number;
  readonly samples: number;
  /** Unix ms of the oldest and newest dropped segments' first samples. */
  readonly from: number;
  readonly to: number;
}

export interface DiskQueue {
  /** Appends a body; returns what had to be dropped (oldest first) to stay within the bound. */
  append(body: Buffer, samples: number, oldest: number): Promise<Dropped | undefined>;
  /** The oldest segment, or undefined when empty. */
  head(): Segment | undefined;
  read(segment: Segment): Promise<Buffer>;
  remove(segment: Segment): Promise<void>;
  /** Marks a segment as being sent, so a drop to make room skips it. */
  hold(segment: Segment | undefined): void;
  stats(): { segments: number; samples: number; bytes: number; oldest?: number };
}

const NAME = /^(\d{16})-(\d+)-(\d+)\.seg$/;

/** Opens (creating) the queue directory and recovers the segments a previous run left. Throws when the directory cannot be used. */
export function openDiskQueue(dir: string, maxBytes: number): DiskQueue {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const segments: Segment[] = [];
  for (const entry of readdirSync(dir)) {
    const file = join(dir, entry);
    // A temporary file is a write a crash interrupted: it was never part of the queue.
    if (entry.endsWith('.tmp')) {
      unlinkSync(file);
      continue;
    }
    const m = NAME.exec(entry);
    if (!m) continue;
    segments.push({ seq: Number(m[1]), samples: Number(m[2]), oldest: Number(m[3]), bytes: statSync(file).size, file });
  }
  segments.sort((a, b) => a.seq - b.seq);
  let nextSeq = (segments.at(-1)?.seq ?? 0) + 1;
  let bytes = segments.reduce((n, s) => n + s.bytes, 0);
  let held: Segment | undefined;

  const forget = (s: Segment): void => {
    const i = segments.indexOf(s);
    if (i < 0) return;
    segments.splice(i, 1);
    bytes -= s.bytes;
  };

  return {
    async append(body, samples, oldest) {
      const seq = nextSeq++;
      const file = join(dir, `${String(seq).padStart(16, '0')}-${samples}-${Math.max(0, Math.round(oldest))}.seg`);
      const tmp = `${file}.tmp`;
      const handle = await open(tmp, 'w', 0o600);
      try {
        await handle.writeFile(body);
        await handle.sync();
      } catch (err) {
        await handle.close().catch(() => undefined);
        await unlink(tmp).catch(() => undefined);
        throw err;
      }
      await handle.close();
      await rename(tmp, file);
      segments.push({ seq, samples, oldest, bytes: body.length, file });
      bytes += body.length;
      let dropped: { segments: number; samples: number; from: number; to: number } | undefined;
      // The newest segment always stays: a bound smaller than one request still sends the latest.
      while (bytes > maxBytes && segments.length > 1) {
        const victim = segments.find((s) => s !== held && s !== segments.at(-1));
        if (!victim) break;
        forget(victim);
        await unlink(victim.file).catch(() => undefined);
        dropped ??= { segments: 0, samples: 0, from: victim.oldest, to: victim.oldest };
        dropped.segments++;
        dropped.samples += victim.samples;
        dropped.to = victim.oldest;
      }
      return dropped;
    },
    head: () => segments[0],
    read: (segment) => readFile(segment.file),
    async remove(segment) {
      forget(segment);
      if (held === segment) held = undefined;
      await unlink(segment.file).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
    },
    hold(segment) {
      held = segment;
    },
    stats: () => ({
      segments: segments.length,
      samples: segments.reduce((n, s) => n + s.samples, 0),
      bytes,
      ...(segments[0] ? { oldest: segments[0].oldest } : {}),
    }),
  };
}
