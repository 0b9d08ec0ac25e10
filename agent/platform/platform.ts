import { linuxCollectors, windowsCollectors, type CollectorRegistry } from '../collectors/registry.js';
import { windowsHostFacts } from '../collectors/windows/host-facts.js';
import type { Config } from '../config/schema.js';
import type { ProcessControl } from '../policy/process-control.js';
import { startQueueWatch, type QueueWatch } from '../sampler/queue-watch.js';
import { createLinuxProcessControl } from './linux/process-control.js';
import { openEventLog, type EventLog } from './windows/event-log.js';
import { createWindowsProcessControl } from './windows/process-control.js';
import { startPdhQueueWatch } from './windows/queue-watch.js';

/** What differs by OS, chosen once: the collectors, the queue poller, process control and the event log. */
export interface Platform {
  readonly os: 'linux' | 'windows';
  readonly collectors: CollectorRegistry;
  /** The queue poller: /proc on Linux, PDH on Windows. */
  startQueueWatch(config: Config): QueueWatch;
  createProcessControl(config: Config): Promise<ProcessControl>;
  /** The Windows Application log under the source the installer registered; none elsewhere. */
  openEventLog(onError: (err: Error) => void): EventLog | undefined;
}

export const linuxPlatform: Platform = {
  os: 'linux',
  collectors: linuxCollectors,
  startQueueWatch: (config) => startQueueWatch(config.paths.procfs, config.sampling.queue_interval),
  createProcessControl: (config) => createLinuxProcessControl(config.paths.procfs),
  openEventLog: () => undefined,
};

export const windowsPlatform: Platform = {
  os: 'windows',
  collectors: windowsCollectors,
  startQueueWatch: (config) => startPdhQueueWatch(config.sampling.queue_interval, windowsHostFacts),
  createProcessControl: () => createWindowsProcessControl(),
  openEventLog: (onError) => openEventLog(onError),
};

/** The platform of the OS the agent runs on (every non-Windows OS is served as Linux: /proc). */
export function currentPlatform(os: NodeJS.Platform = process.platform): Platform {
  return os === 'win32' ? windowsPlatform : linuxPlatform;
}
