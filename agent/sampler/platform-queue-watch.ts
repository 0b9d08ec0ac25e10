import type { Config } from '../config/schema.js';
import { windowsHostFacts } from '../collectors/windows/host-facts.js';
import { startPdhQueueWatch } from '../platform/windows/queue-watch.js';
import { startQueueWatch, type QueueWatch } from './queue-watch.js';

/** The queue poller of the OS the agent runs on: /proc on Linux, PDH on Windows. */
export function startPlatformQueueWatch(config: Config, platform: NodeJS.Platform = process.platform): QueueWatch {
  if (platform === 'win32') return startPdhQueueWatch(config.sampling.queue_interval, windowsHostFacts);
  return startQueueWatch(config.paths.procfs, config.sampling.queue_interval);
}
