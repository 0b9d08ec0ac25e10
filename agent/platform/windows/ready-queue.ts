/**
 * The processor queue length without PDH: the ready threads in a SystemProcessInformation buffer
 * (countThreadStates). Its own buffer, sized as the process list's is; Windows only.
 */
import { loadWin32, type Out } from './ffi.js';
import { createGrowableBuffer } from './native-buffer.js';
import { countThreadStates } from './process-info.js';
import { INITIAL_BUFFER_BYTES, processBufferStep, SYSTEM_PROCESS_INFORMATION } from './process-list.js';

export const READY_QUEUE_SOURCE = 'SystemProcessInformation';

export interface ReadyQueueReader {
  /** Threads ready to run and waiting for a processor, now. */
  read(): number;
  close(): void;
}

const ATTEMPTS = 5;

export async function openReadyQueue(): Promise<ReadyQueueReader> {
  const api = await loadWin32();
  const buffers = createGrowableBuffer(api.koffi, INITIAL_BUFFER_BYTES);
  let closed = false;
  return {
    read() {
      if (closed) throw new Error('the ready-queue reader is closed');
      let buffer = buffers.current();
      const returned: Out<number> = [0];
      for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
        const status = api.NtQuerySystemInformation(SYSTEM_PROCESS_INFORMATION, buffer.pointer, buffer.size, returned);
        const step = processBufferStep(status, buffer.size, returned[0]);
        if (step.kind === 'done') {
          const states = countThreadStates(buffer.bytes, returned[0]);
          if (!states) throw new Error('the process list buffer was torn; no ready-thread count');
          // The thread reading the list is running; a list where none is carries no thread states
          // (Wine reports every thread as Initialized), and its zero would be a made-up queue.
          if (states.running === 0) throw new Error('SystemProcessInformation reported no thread states (no thread running, not even the caller); no processor queue');
          return states.ready;
        }
        if (step.kind === 'fail') throw new Error(step.reason);
        buffer = buffers.atLeast(step.bytes);
      }
      throw new Error(`the process list kept outgrowing its buffer over ${ATTEMPTS} attempts`);
    },
    close() {
      closed = true;
      buffers.free();
    },
  };
}
