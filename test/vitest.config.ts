import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Files that run after the rest, one at a time. The Windows tier shares one Wine prefix and
 * wineserver, so a dump that Wine's dbghelp never finishes in one file cannot stall another's agent;
 * the package test installs and purges the .deb and must find the machine's paths as no other test
 * leaves them meanwhile (an agent started by another file writes its history under /var/lib).
 */
const SERIAL = ['test/wine/**/*.test.ts', 'test/deploy/packages.test.ts'];

export default defineConfig({
  root: fileURLToPath(new URL('..', import.meta.url)),
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration tests mostly wait on real time (sample intervals, children, servers), not on the
    // CPU: three workers on two cores keep the suite under ten minutes.
    maxWorkers: 3,
    projects: [
      { extends: true, test: { name: 'main', include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, ...SERIAL] } },
      { extends: true, test: { name: 'serial', include: SERIAL, fileParallelism: false, sequence: { groupOrder: 1 } } },
    ],
  },
});
