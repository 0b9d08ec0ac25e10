import type { ProcessTable } from '../process/table.js';
import type { LabelsOf, MetricName } from './catalog.js';

export type Labels = Readonly<Record<string, string>>;

export interface SeriesValue {
  readonly labels: Labels;
  readonly value: number;
}

/** What one tick of the sampler produced: every consumer reads this, none writes it. */
export interface Sample {
  /** Unix time in milliseconds at which the sample started. */
  readonly timestamp: number;
  readonly families: ReadonlyMap<MetricName, readonly SeriesValue[]>;
  readonly collectors: readonly CollectorOutcome[];
  /** Structured readings beyond metrics (the process table, for one), keyed by what they are. */
  readonly facts: Readonly<SampleFacts>;
}

/** Each structured reading a collector can publish; the modules that produce them add fields here. */
export interface SampleFacts {
  /** Set by the cpu collector: busy share of all CPUs since the previous sample. */
  cpuUtilization?: number;
  /** Set by the processes collector: every process with its group and matching criteria. */
  processes?: ProcessTable;
}

/**
 * How a collector or stage fared in one sample. `unsupported`: what it reads does not exist on this
 * host (no PSI before Linux 4.20, no diskstats in a container), which is not a failure.
 */
export interface CollectorOutcome {
  readonly name: string;
  readonly status: 'ok' | 'failed' | 'unsupported';
  readonly durationSeconds: number;
  readonly error?: string;
}

/** Where a collector writes what it read. */
export interface Sink {
  set<M extends MetricName>(metric: M, labels: LabelsOf<M>, value: number): void;
  publish<K extends keyof SampleFacts>(key: K, value: SampleFacts[K]): void;
}

/**
 * A step of the sample pipeline after the collectors and the history: it reads the sample so far and
 * may add derived series (trend statistics, alert states, policy outcomes) before the exposition is
 * rendered. Detection, rules, policy and delivery are stages.
 */
export interface Stage {
  readonly name: string;
  run(sample: Sample, sink: Sink): void | Promise<void>;
}

/** Values of one family, or none. */
export function seriesOf(sample: Sample, metric: MetricName): readonly SeriesValue[] {
  return sample.families.get(metric) ?? [];
}

/** The value of a single-series family, or of the series whose labels include `match`. */
export function valueOf(sample: Sample, metric: MetricName, match: Labels = {}): number | undefined {
  return seriesOf(sample, metric).find((s) => Object.entries(match).every(([k, v]) => s.labels[k] === v))?.value;
}
