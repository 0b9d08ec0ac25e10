import { readFileSync } from 'node:fs';

/** The agent's version, from the package.json it ships with. */
export const AGENT_VERSION: string = (() => {
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'contention-agent' && pkg.version) return pkg.version;
    } catch {
      // try the next location: sources and build output sit at different depths
    }
  }
  return 'unknown';
})();
