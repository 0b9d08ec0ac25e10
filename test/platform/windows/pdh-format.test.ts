import { describe, expect, it } from 'vitest';
import { HOST_COUNTERS } from '../../../agent/platform/windows/counters.js';
import {
  arrayStep,
  collectFailed,
  decodeFormattedArray,
  decodeFormattedValue,
  describeStatus,
  FMT_ITEM_SIZE,
  FMT_VALUE_SIZE,
  PDH_FMT,
  PDH_INVALID_DATA,
  PDH_MORE_DATA,
  PDH_NO_DATA,
  readWideString,
} from '../../../agent/platform/windows/pdh-format.js';
import { mapHostReadings, PDH_CSTATUS_INVALID_DATA, PDH_CSTATUS_NEW_DATA, PDH_CSTATUS_NO_INSTANCE, PDH_CSTATUS_VALID_DATA } from '../../../agent/platform/windows/pdh-values.js';
import { buildCounterArray } from './pdh-buffer.js';

const formattedValue = (status: number, value: number): Uint8Array => {
  const bytes = new Uint8Array(16);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, status, true);
  view.setFloat64(8, value, true);
  return bytes;
};

describe('PDH formatted values', () => {
  it('uses the 64-bit layouts and asks for doubles in the counter unit', () => {
    expect(FMT_VALUE_SIZE).toBe(16);
    expect(FMT_ITEM_SIZE).toBe(24);
    expect(PDH_FMT).toBe(0x200 | 0x1000);
  });

  it('reads a single value and its CStatus', () => {
    expect(decodeFormattedValue(0, formattedValue(PDH_CSTATUS_VALID_DATA, 33_219_584))).toEqual({ instance: '', status: 0, value: 33_219_584 });
    expect(decodeFormattedValue(0, formattedValue(PDH_CSTATUS_NEW_DATA, 2)).status).toBe(PDH_CSTATUS_NEW_DATA);
  });

  it('carries the reason a value is unusable: its CStatus, or the call status when the struct is empty', () => {
    // A rate counter's first formatting: the call fails and the CStatus says why.
    expect(decodeFormattedValue(PDH_INVALID_DATA, formattedValue(PDH_CSTATUS_INVALID_DATA, 0)).status).toBe(PDH_CSTATUS_INVALID_DATA);
    expect(decodeFormattedValue(PDH_INVALID_DATA, formattedValue(0, 0)).status).toBe(PDH_INVALID_DATA);
  });

  it('refuses a value buffer smaller than the struct', () => {
    expect(() => decodeFormattedValue(0, new Uint8Array(8))).toThrow('16 bytes');
  });
});

describe('PDH formatted arrays', () => {
  // PhysicalDisk(*)\Current Disk Queue Length on a SQL Server host: three disks, one removed during the
  // collection, and the _Total the agent leaves out.
  const disks = buildCounterArray([
    { name: '0 C:', status: PDH_CSTATUS_VALID_DATA, value: 1 },
    { name: '1 D: L:', status: PDH_CSTATUS_VALID_DATA, value: 14 },
    { name: '2 T:', status: PDH_CSTATUS_NO_INSTANCE, value: 0 },
    { name: '_Total', status: PDH_CSTATUS_VALID_DATA, value: 15 },
  ]);

  it('decodes each item with the instance name its pointer leads to', () => {
    expect(decodeFormattedArray(disks.buffer, disks.baseAddress, 4, disks.bytes)).toEqual([
      { instance: '0 C:', status: 0, value: 1 },
      { instance: '1 D: L:', status: 0, value: 14 },
      { instance: '2 T:', status: PDH_CSTATUS_NO_INSTANCE, value: 0 },
      { instance: '_Total', status: 0, value: 15 },
    ]);
  });

  it('feeds the counter map: whole disks labelled by instance, _Total and vanished disks left out', () => {
    const counter = HOST_COUNTERS.find((c) => c.counter === 'Current Disk Queue Length')!;
    const items = decodeFormattedArray(disks.buffer, disks.baseAddress, 4, disks.bytes);
    const { series } = mapHostReadings([{ counter, items }], { physicalBytes: 64 * 2 ** 30, cpus: 16 });
    expect(series.filter((s) => s.metric === 'contention_disk_queue_length')).toEqual([
      { metric: 'contention_disk_queue_length', labels: { device: '0 C:' }, value: 1 },
      { metric: 'contention_disk_queue_length', labels: { device: '1 D: L:' }, value: 14 },
    ]);
  });

  it('leaves out an item whose name pointer leaves the buffer, and never reads past it', () => {
    const built = buildCounterArray([
      { name: 'HarddiskVolume1', status: 0, value: 2 },
      { name: '0 C:', status: 0, value: 3 },
    ]);
    new DataView(built.buffer.buffer).setBigUint64(0, built.baseAddress + 0x10_0000n, true);
    expect(decodeFormattedArray(built.buffer, built.baseAddress, 2, built.bytes)).toEqual([{ instance: '0 C:', status: 0, value: 3 }]);
    // A name that runs to the end of what PDH wrote without its NUL is not read further.
    const cut = buildCounterArray([{ name: 'abc', status: 0, value: 1 }]);
    expect(decodeFormattedArray(cut.buffer, cut.baseAddress, 1, cut.bytes - 2)).toEqual([]);
  });

  it('refuses an item count the buffer cannot hold', () => {
    expect(() => decodeFormattedArray(disks.buffer, disks.baseAddress, 100, disks.bytes)).toThrow('100 items need 2400 bytes');
  });

  it('reads NUL-terminated UTF-16 only inside the bytes given', () => {
    const bytes = new Uint8Array([0x53, 0, 0x51, 0, 0x4c, 0, 0, 0]);
    expect(readWideString(bytes, 0n)).toBe('SQL');
    expect(readWideString(bytes, 2n)).toBe('QL');
    expect(readWideString(bytes, 1n)).toBeUndefined(); // odd offset
    expect(readWideString(bytes, -2n)).toBeUndefined();
    expect(readWideString(bytes.subarray(0, 6), 0n)).toBeUndefined(); // no NUL inside
  });
});

describe('PDH call statuses', () => {
  it('sizes the array buffer in two calls, and again when instances appear between them', () => {
    expect(arrayStep(PDH_MORE_DATA, 4_200)).toEqual({ kind: 'grow', bytes: 4_200 });
    expect(arrayStep(0, 4_200)).toEqual({ kind: 'done' });
  });

  it('treats no valid data yet as an empty array, not a failure', () => {
    expect(arrayStep(PDH_INVALID_DATA, 0)).toEqual({ kind: 'empty' });
    expect(arrayStep(PDH_NO_DATA, 0)).toEqual({ kind: 'empty' });
    expect(arrayStep(PDH_CSTATUS_INVALID_DATA, 0)).toEqual({ kind: 'empty' });
  });

  it('fails on other statuses and on sizes no counter array has', () => {
    expect(arrayStep(0xc0000bbc, 0)).toEqual({ kind: 'fail', status: 0xc0000bbc });
    expect(arrayStep(PDH_MORE_DATA, 0).kind).toBe('fail');
    expect(arrayStep(PDH_MORE_DATA, 64 * 1024 * 1024).kind).toBe('fail');
  });

  it('does not fail a collection that had nothing to collect', () => {
    expect(collectFailed(0)).toBe(false);
    expect(collectFailed(PDH_NO_DATA)).toBe(false);
    expect(collectFailed(0xc0000bbc)).toBe(true);
  });

  it('names statuses in error messages', () => {
    expect(describeStatus(0xc0000bb9)).toBe('0xC0000BB9 (PDH_CSTATUS_NO_COUNTER)');
    expect(describeStatus(0x80070005)).toBe('0x80070005');
  });
});
