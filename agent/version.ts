import { readFileSync } from 'node:fs';

/** What `npm run build` records beside the build output: the source revision and when it was built. */
export interface BuildInfo {
  readonly version: string;
  readonly revision: string;
  readonly buildDate: string;
}

function readJson(rel: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** The agent's version, from the package.json it ships with. */
export const AGENT_VERSION: string = (() => {
  // Sources and build output sit at different depths below the package's root.
  for (const rel of ['../package.json', '../../package.json']) {
    const pkg = readJson(rel);
    if (pkg?.name === 'contention-agent' && typeof pkg.version === 'string') return pkg.version;
  }
  return 'unknown';
})();

/** Version, revision and build date; revision and date are "unknown" when running from sources. */
export function buildInfo(): BuildInfo {
  // dist/agent/version.js reads dist/build-info.json; agent/version.ts (under vitest) has none.
  const info = readJson('../build-info.json');
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : 'unknown');
  return { version: AGENT_VERSION, revision: str(info?.revision), buildDate: str(info?.buildDate) };
}

/** The `--version` text, laid out as the Prometheus exporters print theirs. */
export function versionText(info: BuildInfo = buildInfo()): string {
  return [
    `contention-agent, version ${info.version} (revision: ${info.revision})`,
    `  build date:       ${info.buildDate}`,
    `  node version:     ${process.version}`,
    `  platform:         ${process.platform}/${process.arch}`,
    '',
  ].join('\n');
}
