import { parentPort, workerData } from 'node:worker_threads';
import type { Override } from '../cli/args.js';
import { resolveConfig } from './load.js';

// The thread resolveConfigOffThread starts: one load, one answer.
const { file, overrides } = workerData as { file: string | undefined; overrides: Override[] };
parentPort!.postMessage(resolveConfig(file, overrides));
