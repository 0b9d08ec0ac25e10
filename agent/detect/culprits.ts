import { topBy, type Measure } from '../process/groups.js';
import type { ProcessRow } from '../process/table.js';
import { formatBytes } from '../text/bytes.js';

/** A process named under a finding: who holds or uses the resource, with the figure that says so. */
export interface Culprit {
  readonly pid: number;
  readonly name: string;
  readonly group: string;
  /** systemd unit or container, when known. */
  readonly unit?: string;
  readonly figure: string;
}

/** What a finding's culprits are ranked by. */
export type CulpritMeasure = 'cpu' | 'memory' | 'growth' | 'handles' | 'threads' | 'io' | 'writes';

/** How many processes a finding names. */
export const CULPRITS = 5;

const pctOfCpu = (rate: number): string => `${(rate * 100).toFixed(0)}% of a CPU`;
const perSecond = (bytes: number): string => `${formatBytes(bytes)}/s`;

export function figureOf(r: ProcessRow, measure: CulpritMeasure): string {
  switch (measure) {
    case 'cpu':
      return pctOfCpu(r.rates.cpu);
    case 'memory':
    case 'growth': {
      const growth = r.rates.privateGrowth;
      return `${formatBytes(r.privateBytes)} private${growth > 0 ? `, +${perSecond(growth)}` : ''}`;
    }
    case 'handles':
      return `${r.handles.toLocaleString('en-US')} open`;
    case 'threads':
      return `${r.threads.toLocaleString('en-US')} threads`;
    case 'io':
      return `read ${perSecond(r.rates.ioRead ?? 0)}, write ${perSecond(r.rates.ioWrite ?? 0)}`;
    case 'writes':
      return `writes ${perSecond(r.rates.ioWrite ?? 0)}`;
  }
}

const RANK: Record<CulpritMeasure, Measure | ((r: ProcessRow) => number)> = {
  cpu: 'cpu',
  memory: 'privateBytes',
  growth: 'growth',
  handles: 'handles',
  threads: 'threads',
  io: 'io',
  writes: (r) => r.rates.ioWrite ?? 0,
};

export const asCulprit = (r: ProcessRow, measure: CulpritMeasure): Culprit => ({
  pid: r.pid,
  name: r.displayName,
  group: r.processGroup,
  unit: r.unit,
  figure: figureOf(r, measure),
});

/** The top processes by a measure, only those with something of it (a CPU finding names no idle process). */
export function culpritsBy(rows: readonly ProcessRow[], measure: CulpritMeasure, n = CULPRITS): Culprit[] {
  const rank = RANK[measure];
  const picked =
    typeof rank === 'string'
      ? topBy(rows, rank, n)
      : [...rows].filter((r) => rank(r) > 0).sort((a, b) => rank(b) - rank(a) || a.pid - b.pid).slice(0, n);
  const minimum = measure === 'cpu' ? 0.01 : 0;
  return picked.filter((r) => (measure === 'cpu' ? r.rates.cpu >= minimum : true)).map((r) => asCulprit(r, measure));
}

/**
 * Memory findings name the largest and the fastest-growing private bytes: the first is where the
 * memory is, the second where it is going.
 */
export function memoryCulprits(rows: readonly ProcessRow[]): Culprit[] {
  const largest = topBy(rows, 'privateBytes', 3);
  const growing = topBy(rows, 'growth', 3);
  const seen = new Set<number>();
  const out: Culprit[] = [];
  for (const r of [...growing, ...largest]) {
    if (seen.has(r.pid)) continue;
    seen.add(r.pid);
    out.push(asCulprit(r, 'memory'));
  }
  return out.slice(0, CULPRITS);
}

/** The processes in a cgroup or below it. */
export function inCgroup(rows: readonly ProcessRow[], path: string): ProcessRow[] {
  const prefix = path.endsWith('/') ? path : `${path}/`;
  return rows.filter((r) => r.cgroup !== undefined && (r.cgroup === path || r.cgroup.startsWith(prefix)));
}
