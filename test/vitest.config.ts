import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  root: fileURLToPath(new URL('..', import.meta.url)),
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration tests start real processes and servers; two cores need no more workers.
    maxWorkers: 2,
    projects: [
      { extends: true, test: { name: 'linux', include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, 'test/wine/**'] } },
      // The Windows tier shares one Wine prefix and wineserver: its files run one at a time, after the
      // rest, so a dump that Wine's dbghelp never finishes in one file cannot stall another's agent.
      { extends: true, test: { name: 'wine', include: ['test/wine/**/*.test.ts'], fileParallelism: false, sequence: { groupOrder: 1 } } },
    ],
  },
});
