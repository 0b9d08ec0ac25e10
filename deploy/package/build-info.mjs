// Writes dist/build-info.json: the revision the build came from and when it was built, for --version.
// SOURCE_DATE_EPOCH (reproducible builds) fixes the date; outside a git checkout the revision is "unknown".
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const git = (...args) => {
  try {
    return execFileSync('git', ['-C', root, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
};
let revision = git('rev-parse', 'HEAD') || 'unknown';
if (revision !== 'unknown' && git('status', '--porcelain', '--untracked-files=no') !== '') revision += '-dirty';
const epoch = process.env.SOURCE_DATE_EPOCH;
const buildDate = (epoch ? new Date(Number(epoch) * 1000) : new Date()).toISOString().replace(/\.\d{3}Z$/, 'Z');
mkdirSync(new URL('../../dist/', import.meta.url), { recursive: true });
writeFileSync(new URL('../../dist/build-info.json', import.meta.url), `${JSON.stringify({ revision, buildDate }, null, 2)}\n`);
