import { fileURLToPath } from 'node:url';
import { configDefaults, defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Files that run after the rest, one at a time. The Windows tier shares one Wine prefix and
 * wineserver, so a dump that Wine's dbghelp never finishes in one file cannot stall another's agent;
 * the package test installs and purges the .deb and must find the machine's paths as no other test
 * leaves them meanwhile (an agent started by another file writes its history under /var/lib).
 */
const SERIAL = ['test/wine/**/*.test.ts', 'test/deploy/packages.test.ts'];

/**
 * Files that take minutes of real time (children that leak for minutes, a day of PerfMon data), in
 * the order they start. Vitest runs files it has no timings for largest first, so on a clean clone
 * the slowest file, a small one, started two minutes in and set the length of the whole suite.
 */
const SLOWEST = ['test/detect/real-children.test.ts', 'test/commands/analyze.test.ts', 'test/rules/local-evaluation.test.ts', 'test/dashboards/fleet.test.ts', 'test/remote/receivers.test.ts'];

// Vitest takes a sequencer as a class; this keeps its order and moves SLOWEST to the front of each project.
class SlowestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const rank = (f: TestSpecification) => {
      const i = SLOWEST.findIndex((path) => f.moduleId.endsWith(path));
      return i < 0 ? SLOWEST.length : i;
    };
    const out: TestSpecification[] = [];
    for (let start = 0; start < sorted.length; ) {
      let end = start;
      while (end < sorted.length && sorted[end]!.project.name === sorted[start]!.project.name) end++;
      const block = sorted.slice(start, end).map((f, i) => ({ f, i }));
      out.push(...block.sort((a, b) => rank(a.f) - rank(b.f) || a.i - b.i).map(({ f }) => f));
      start = end;
    }
    return out;
  }
}

export default defineConfig({
  root: fileURLToPath(new URL('..', import.meta.url)),
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration tests mostly wait on real time (sample intervals, children, servers), not on the
    // CPU: three workers on two cores keep the suite under ten minutes.
    maxWorkers: 3,
    sequence: { sequencer: SlowestFirst },
    projects: [
      { extends: true, test: { name: 'main', include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, ...SERIAL] } },
      { extends: true, test: { name: 'serial', include: SERIAL, fileParallelism: false, sequence: { groupOrder: 1 } } },
    ],
  },
});
