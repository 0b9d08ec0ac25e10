/**
 * Remote-write 1.0's request body before compression: a prometheus.WriteRequest protobuf message.
 * Only three messages and five fields are involved, so they are encoded here directly instead of
 * through a protobuf runtime and generated code:
 *
 *   WriteRequest { repeated TimeSeries timeseries = 1; }
 *   TimeSeries   { repeated Label labels = 1; repeated Sample samples = 2; }
 *   Label        { string name = 1; string value = 2; }
 *   Sample       { double value = 1; int64 timestamp = 2; }   // milliseconds
 */

export interface RemoteSample {
  readonly value: number;
  /** Unix time in milliseconds. */
  readonly timestamp: number;
}

export interface TimeSeries {
  /** Name and value pairs, sorted by name (the protocol requires it), `__name__` among them. */
  readonly labels: ReadonlyArray<readonly [string, string]>;
  /** Oldest first. */
  readonly samples: readonly RemoteSample[];
}

const LEN = 2;
const I64 = 1;
const VARINT = 0;
const tag = (field: number, wire: number): number => (field << 3) | wire;

/** Bytes of a varint; values up to 2^53 (timestamps in ms need 41 bits, more than 32-bit shifts allow). */
function varintSize(n: number): number {
  let size = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

function writeVarint(buf: Buffer, pos: number, n: number): number {
  while (n >= 128) {
    buf[pos++] = (n % 128) | 128;
    n = Math.floor(n / 128);
  }
  buf[pos++] = n;
  return pos;
}

const fieldSize = (payload: number): number => 1 + varintSize(payload) + payload;

interface Sized {
  readonly series: TimeSeries;
  readonly labelSizes: number[];
  readonly size: number;
}

function measure(series: TimeSeries): Sized {
  const labelSizes = series.labels.map(([name, value]) => fieldSize(Buffer.byteLength(name)) + fieldSize(Buffer.byteLength(value)));
  let size = 0;
  for (const s of labelSizes) size += fieldSize(s);
  for (const sample of series.samples) size += fieldSize(sampleSize(sample));
  return { series, labelSizes, size };
}

// A negative timestamp would need ten bytes of two's complement; samples before 1970 are not sent.
const sampleSize = (s: RemoteSample): number => 1 + 8 + (s.timestamp === 0 ? 0 : 1 + varintSize(s.timestamp));

function writeString(buf: Buffer, pos: number, field: number, text: string): number {
  const length = Buffer.byteLength(text);
  buf[pos++] = tag(field, LEN);
  pos = writeVarint(buf, pos, length);
  return pos + buf.write(text, pos, 'utf8');
}

/** Encodes a WriteRequest holding `series` (samples with a negative timestamp are refused). */
export function encodeWriteRequest(series: readonly TimeSeries[]): Buffer {
  const sized = series.map((s) => {
    for (const sample of s.samples) {
      if (!(sample.timestamp >= 0) || !Number.isSafeInteger(sample.timestamp)) throw new RangeError(`sample timestamp ${sample.timestamp} is not a non-negative integer of milliseconds`);
    }
    return measure(s);
  });
  let total = 0;
  for (const s of sized) total += fieldSize(s.size);
  const buf = Buffer.allocUnsafe(total);
  let pos = 0;
  for (const { series: s, labelSizes, size } of sized) {
    buf[pos++] = tag(1, LEN);
    pos = writeVarint(buf, pos, size);
    s.labels.forEach(([name, value], i) => {
      buf[pos++] = tag(1, LEN);
      pos = writeVarint(buf, pos, labelSizes[i]!);
      pos = writeString(buf, pos, 1, name);
      pos = writeString(buf, pos, 2, value);
    });
    for (const sample of s.samples) {
      buf[pos++] = tag(2, LEN);
      pos = writeVarint(buf, pos, sampleSize(sample));
      buf[pos++] = tag(1, I64);
      buf.writeDoubleLE(sample.value, pos);
      pos += 8;
      if (sample.timestamp !== 0) {
        buf[pos++] = tag(2, VARINT);
        pos = writeVarint(buf, pos, sample.timestamp);
      }
    }
  }
  if (pos !== total) throw new Error(`write request size mismatch: wrote ${pos} of ${total} bytes`);
  return buf;
}
