/**
 * What PDH hands back, decoded: the formatted value of one counter and the item array of a wildcard
 * counter, on 64-bit Windows. Pure: bytes and status codes in, PdhItems and decisions out. The PDH
 * reader (pdh-query.ts) only makes the calls.
 */
import { PDH_CSTATUS_INVALID_DATA, PDH_CSTATUS_NO_INSTANCE, type PdhItem } from './pdh-values.js';

export const ERROR_SUCCESS = 0x0;
/** A buffer was too small; the size needed was written back. */
export const PDH_MORE_DATA = 0x800007d2;
/** The counter has no valid value now (a rate counter before its second collection). */
export const PDH_INVALID_DATA = 0xc0000bc6;
/** PdhCollectQueryData had nothing to collect. */
export const PDH_NO_DATA = 0x800007d5;
export const PDH_CSTATUS_NO_OBJECT = 0xc0000bb8;
export const PDH_CSTATUS_NO_COUNTER = 0xc0000bb9;
export const PDH_CSTATUS_BAD_COUNTERNAME = 0xc0000bc0;
export const PDH_INVALID_HANDLE = 0xc0000bbc;
export const PDH_INVALID_ARGUMENT = 0xc0000bbd;

export const PDH_FMT_DOUBLE = 0x00000200;
/** Leave out any scale factor: the agent wants the counter's own unit (bytes, not MB). */
export const PDH_FMT_NOSCALE = 0x00001000;
export const PDH_FMT = PDH_FMT_DOUBLE | PDH_FMT_NOSCALE;

/**
 * PDH_FMT_COUNTERVALUE: a DWORD CStatus, 4 bytes of padding, then the value union (a double here).
 * PDH_FMT_COUNTERVALUE_ITEM_W puts the instance name pointer before it.
 */
export const FMT_VALUE = { CStatus: 0x0, doubleValue: 0x8 } as const;
export const FMT_VALUE_SIZE = 0x10;
export const FMT_ITEM = { szName: 0x0, FmtValue: 0x8 } as const;
export const FMT_ITEM_SIZE = 0x18;

const STATUS_NAMES: Readonly<Record<number, string>> = {
  [PDH_MORE_DATA]: 'PDH_MORE_DATA',
  [PDH_INVALID_DATA]: 'PDH_INVALID_DATA',
  [PDH_NO_DATA]: 'PDH_NO_DATA',
  [PDH_CSTATUS_NO_OBJECT]: 'PDH_CSTATUS_NO_OBJECT',
  [PDH_CSTATUS_NO_COUNTER]: 'PDH_CSTATUS_NO_COUNTER',
  [PDH_CSTATUS_BAD_COUNTERNAME]: 'PDH_CSTATUS_BAD_COUNTERNAME',
  [PDH_INVALID_HANDLE]: 'PDH_INVALID_HANDLE',
  [PDH_INVALID_ARGUMENT]: 'PDH_INVALID_ARGUMENT',
  [PDH_CSTATUS_INVALID_DATA]: 'PDH_CSTATUS_INVALID_DATA',
  [PDH_CSTATUS_NO_INSTANCE]: 'PDH_CSTATUS_NO_INSTANCE',
};

/** A status as an error message can show it: `0xC0000BB9 (PDH_CSTATUS_NO_COUNTER)`. */
export function describeStatus(status: number): string {
  const hex = `0x${(status >>> 0).toString(16).toUpperCase().padStart(8, '0')}`;
  const name = STATUS_NAMES[status >>> 0];
  return name ? `${hex} (${name})` : hex;
}

/**
 * One counter's value from PdhGetFormattedCounterValue. The call itself fails with PDH_INVALID_DATA
 * when the value's CStatus says it is unusable; the item then carries that CStatus (or the call's
 * status when the struct was left empty) so the mapping skips it as it skips any bad status.
 */
export function decodeFormattedValue(returned: number, value: Uint8Array): PdhItem {
  if (value.byteLength < FMT_VALUE_SIZE) throw new RangeError(`a formatted value takes ${FMT_VALUE_SIZE} bytes, got ${value.byteLength}`);
  const view = new DataView(value.buffer, value.byteOffset, FMT_VALUE_SIZE);
  const cstatus = view.getUint32(FMT_VALUE.CStatus, true);
  const status = returned >>> 0 === ERROR_SUCCESS ? cstatus : cstatus !== 0 ? cstatus : returned >>> 0;
  return { instance: '', status, value: view.getFloat64(FMT_VALUE.doubleValue, true) };
}

/**
 * The items PdhGetFormattedCounterArrayW wrote: `count` fixed-size items, then the instance names
 * they point at, all in the one buffer, which sat at `baseAddress`. A name pointer outside the
 * buffer, or a name without its terminating NUL, leaves that item out: PDH never writes one, and
 * memory outside the buffer is never read.
 */
export function decodeFormattedArray(buffer: Uint8Array, baseAddress: bigint, count: number, bufferBytes = buffer.byteLength): PdhItem[] {
  const length = Math.min(bufferBytes, buffer.byteLength);
  if (count * FMT_ITEM_SIZE > length) throw new RangeError(`${count} items need ${count * FMT_ITEM_SIZE} bytes; the buffer holds ${length}`);
  const view = new DataView(buffer.buffer, buffer.byteOffset, length);
  const items: PdhItem[] = [];
  for (let i = 0; i < count; i++) {
    const at = i * FMT_ITEM_SIZE;
    const instance = readWideString(buffer.subarray(0, length), view.getBigUint64(at + FMT_ITEM.szName, true) - baseAddress);
    if (instance === undefined) continue;
    items.push({
      instance,
      status: view.getUint32(at + FMT_ITEM.FmtValue + FMT_VALUE.CStatus, true),
      value: view.getFloat64(at + FMT_ITEM.FmtValue + FMT_VALUE.doubleValue, true),
    });
  }
  return items;
}

const utf16 = new TextDecoder('utf-16le');

/** A NUL-terminated UTF-16 string at `offset` in `bytes`, or undefined when it does not end inside them. */
export function readWideString(bytes: Uint8Array, offset: bigint): string | undefined {
  if (offset < 0n || offset >= BigInt(bytes.byteLength) || offset % 2n !== 0n) return undefined;
  const start = Number(offset);
  for (let i = start; i + 1 < bytes.byteLength; i += 2) {
    if (bytes[i] === 0 && bytes[i + 1] === 0) return utf16.decode(bytes.subarray(start, i));
  }
  return undefined;
}

/** What to do after a call to PdhGetFormattedCounterArrayW. */
export type ArrayStep =
  | { readonly kind: 'done' }
  /** Call again with a buffer of at least `bytes`. */
  | { readonly kind: 'grow'; readonly bytes: number }
  /** No usable values this time (a rate counter's first collection): an empty array, not an error. */
  | { readonly kind: 'empty' }
  | { readonly kind: 'fail'; readonly status: number };

/**
 * The two-call sizing: a first call without a buffer answers PDH_MORE_DATA and the size needed;
 * instances can appear between calls (a disk attached), so a second PDH_MORE_DATA asks again.
 * `maxBytes` bounds what a corrupt size could make the reader allocate.
 */
export function arrayStep(status: number, neededBytes: number, maxBytes = 16 * 1024 * 1024): ArrayStep {
  switch (status >>> 0) {
    case ERROR_SUCCESS:
      return { kind: 'done' };
    case PDH_MORE_DATA:
      if (!(neededBytes > 0) || neededBytes > maxBytes) return { kind: 'fail', status };
      return { kind: 'grow', bytes: neededBytes };
    case PDH_INVALID_DATA:
    // A value's own status before a rate counter's second collection; some calls return it too.
    case PDH_CSTATUS_INVALID_DATA:
    case PDH_NO_DATA:
      return { kind: 'empty' };
    default:
      return { kind: 'fail', status };
  }
}

/** PdhCollectQueryData's answer: PDH_NO_DATA (nothing collected yet, e.g. all instances gone) is not a failure. */
export function collectFailed(status: number): boolean {
  const s = status >>> 0;
  return s !== ERROR_SUCCESS && s !== PDH_NO_DATA;
}
