import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { fleet } from './fleet.js';
import { hostContention } from './host-contention.js';
import { policies } from './policies.js';
import { processesAndLeaks } from './processes-and-leaks.js';

/** Every dashboard and the file under dashboards/ it is generated into. */
export const DASHBOARDS: ReadonlyArray<{ readonly file: string; readonly build: () => Dashboard }> = [
  { file: 'host-contention.json', build: hostContention },
  { file: 'processes-and-leaks.json', build: processesAndLeaks },
  { file: 'policies.json', build: policies },
  { file: 'fleet.json', build: fleet },
];

/** The committed form: two-space JSON with a final newline, so diffs stay readable. */
export const render = (dashboard: Dashboard): string => `${JSON.stringify(dashboard, null, 2)}\n`;
