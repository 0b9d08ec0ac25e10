import { createNativeProcessSource } from '../../platform/windows/process-source.js';
import { processesCollectorOver } from '../processes.js';

/** The same processes collector as on Linux, over the native process list. */
export const windowsProcessesCollector = processesCollectorOver(() => createNativeProcessSource());
