/**
 * The PDH reader: one query holding the counters a collector reads, collected on demand. Thin: it
 * makes the calls and hands bytes and statuses to pdh-format.ts; what a value means is decided by
 * pdh-values.ts. Runs only on Windows.
 */
import { queryPath, type HostCounter } from './counters.js';
import { loadWin32, type Out, type Pointer } from './ffi.js';
import { createGrowableBuffer } from './native-buffer.js';
import { arrayStep, collectFailed, decodeFormattedArray, decodeFormattedValue, describeStatus, FMT_VALUE_SIZE, PDH_FMT } from './pdh-format.js';
import type { PdhItem, PdhReading } from './pdh-values.js';

export interface PdhQuery {
  /** Collects every counter now; rate counters have values from the second collection on. */
  collect(): PdhReading[];
  /** Releases the query and its buffers; collect() fails afterwards. */
  close(): void;
}

/** Instances can appear between the sizing call and the read; after this many tries the read fails. */
const ARRAY_ATTEMPTS = 4;

/**
 * Opens a query with the English paths of `counters` (wildcards for per-instance counters). A
 * counter the host does not have fails the open, naming its path and status: a collector that
 * silently exported less than it claims would be worse.
 */
export async function openPdhQuery(counters: readonly HostCounter[]): Promise<PdhQuery> {
  const api = await loadWin32();
  const queryOut: Out<Pointer | null> = [null];
  const opened = api.PdhOpenQueryW(null, 0, queryOut);
  if (opened !== 0 || !queryOut[0]) throw new Error(`PdhOpenQueryW failed: ${describeStatus(opened)}`);
  const query = queryOut[0];

  const handles: Array<{ counter: HostCounter; handle: Pointer }> = [];
  for (const counter of counters) {
    const out: Out<Pointer | null> = [null];
    const path = queryPath(counter);
    const status = api.PdhAddEnglishCounterW(query, path, 0, out);
    if (status !== 0 || !out[0]) {
      api.PdhCloseQuery(query);
      throw new Error(`PdhAddEnglishCounterW ${path} failed: ${describeStatus(status)}`);
    }
    handles.push({ counter, handle: out[0] });
  }

  const value = new Uint8Array(FMT_VALUE_SIZE);
  const arrays = createGrowableBuffer(api.koffi, 4096);
  let closed = false;

  const readValue = (handle: Pointer): PdhItem => {
    value.fill(0);
    return decodeFormattedValue(api.PdhGetFormattedCounterValue(handle, PDH_FMT, null, value), value);
  };

  const readArray = (handle: Pointer, path: string): PdhItem[] => {
    let buffer = arrays.current();
    const size: Out<number> = [buffer.size];
    const count: Out<number> = [0];
    for (let attempt = 0; attempt < ARRAY_ATTEMPTS; attempt++) {
      const status = api.PdhGetFormattedCounterArrayW(handle, PDH_FMT, size, count, buffer.pointer);
      const step = arrayStep(status, size[0]);
      switch (step.kind) {
        case 'done':
          return decodeFormattedArray(buffer.bytes, buffer.address, count[0], size[0]);
        case 'empty':
          return [];
        case 'fail':
          throw new Error(`PdhGetFormattedCounterArrayW ${path} failed: ${describeStatus(step.status)}`);
        case 'grow':
          buffer = arrays.atLeast(step.bytes);
          size[0] = buffer.size;
      }
    }
    throw new Error(`PdhGetFormattedCounterArrayW ${path}: instances kept changing over ${ARRAY_ATTEMPTS} attempts`);
  };

  return {
    collect() {
      if (closed) throw new Error('the PDH query is closed');
      const status = api.PdhCollectQueryData(query);
      if (collectFailed(status)) throw new Error(`PdhCollectQueryData failed: ${describeStatus(status)}`);
      return handles.map(({ counter, handle }) => ({
        counter,
        items: counter.instances === 'each' ? readArray(handle, queryPath(counter)) : [readValue(handle)],
      }));
    },
    close() {
      if (closed) return;
      closed = true;
      api.PdhCloseQuery(query);
      arrays.free();
    },
  };
}
