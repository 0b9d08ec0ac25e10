/**
 * Writes every dashboard's JSON into dashboards/ (or the directory given as the only argument).
 * Run through `npm run dashboards`, which builds first.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DASHBOARDS, render } from './index.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const dir = resolve(process.argv[2] ?? join(root, 'dashboards'));
mkdirSync(dir, { recursive: true });
for (const { file, build } of DASHBOARDS) {
  writeFileSync(join(dir, file), render(build()));
  console.log(`wrote ${join(dir, file)}`);
}
