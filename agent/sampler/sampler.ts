import type { Logger } from 'pino';
import { isUnsupported, type Collector } from '../collectors/collector.js';
import type { HistoryStage } from '../history/stage.js';
import type { MetricName } from '../metrics/catalog.js';
import type { CollectorOutcome, Labels, Sample, SampleFacts, SeriesValue, Sink, Stage } from '../metrics/sample.js';
import type { Exposition, ExpositionRenderer } from './exposition.js';

export interface Sampler {
  /** The latest sample and its rendered exposition, or undefined before the first. */
  latest(): { sample: Sample; exposition: Exposition } | undefined;
  /** Runs one sample now; used by the loop and by one-shot commands. */
  sampleOnce(): Promise<Sample>;
  onSample(listener: (sample: Sample) => void): void;
  /** Starts the loop: a sample now, then one every interval. */
  start(): void;
  /**
   * Takes new collectors, stages and interval after the sample under way (if any) has finished, and, when
   * the loop runs, samples with them at once. Resolves when the old collectors are no longer in use.
   */
  reconfigure(next: Pick<PipelineParts, 'collectors' | 'intervalSeconds' | 'stages'>): Promise<void>;
  stop(): void;
}

export interface PipelineParts {
  readonly collectors: ReadonlyArray<{ spec: { readonly name: string }; instance: Collector }>;
  /** The one writer of the local history; without it nothing is recorded. */
  readonly history?: HistoryStage;
  /** Derived stages, in order: detection, rules, policy, delivery. */
  readonly stages?: readonly Stage[];
  readonly intervalSeconds: number;
  readonly log: Logger;
}

export interface SamplerOptions extends PipelineParts {
  readonly renderer: ExpositionRenderer;
}

/** Builds a sample from sink writes. Invalid values are dropped and reported, never exported. */
function createSampleSink(invalid: (metric: string, value: number) => void) {
  const families = new Map<MetricName, SeriesValue[]>();
  const facts: SampleFacts = {};
  const sink: Sink = {
    set(metric, labels, value) {
      if (!Number.isFinite(value)) {
        invalid(metric, value);
        return;
      }
      let list = families.get(metric);
      if (!list) families.set(metric, (list = []));
      list.push({ labels: labels as Labels, value });
    },
    publish(key, value) {
      facts[key] = value;
    },
  };
  /** Where each family ends now; `since` gives what was written after. */
  const mark = (): Map<MetricName, number> => new Map([...families].map(([name, list]) => [name, list.length]));
  const since = (before: ReadonlyMap<MetricName, number>): Map<MetricName, SeriesValue[]> => {
    const out = new Map<MetricName, SeriesValue[]>();
    for (const [name, list] of families) {
      const from = before.get(name) ?? 0;
      if (list.length > from) out.set(name, list.slice(from));
    }
    return out;
  };
  return { sink, families, facts, mark, since };
}

const writeHealth = (sink: Sink, outcome: CollectorOutcome): void => {
  // An unsupported collector has no success series, so CollectorFailing cannot fire for it.
  if (outcome.status === 'unsupported') sink.set('contention_collector_unsupported', { collector: outcome.name }, 1);
  else sink.set('contention_collector_success', { collector: outcome.name }, outcome.status === 'ok' ? 1 : 0);
  sink.set('contention_collector_duration_seconds', { collector: outcome.name }, outcome.durationSeconds);
};

/**
 * One sample, one way: the collectors, their health series, the history (which alone records, and
 * records each series once), then each derived stage with its health series, which the history
 * records as soon as the stage has run so later stages (the rules) see them. `reported` holds the
 * collectors already logged as unsupported, so that is said once, not every sample.
 */
export async function runPipeline(parts: PipelineParts, timestamp: number, reported: Set<string> = new Set()): Promise<Sample> {
  const { log } = parts;
  const { sink, families, facts, mark, since } = createSampleSink((metric, value) => log.warn({ metric, value }, 'dropped a non-finite value'));
  const outcomes: CollectorOutcome[] = [];
  const snapshot = (): Sample => ({ timestamp, families, collectors: outcomes, facts });

  const timed = async (name: string, work: () => void | Promise<void>): Promise<CollectorOutcome> => {
    const start = process.hrtime.bigint();
    const seconds = (): number => Number(process.hrtime.bigint() - start) / 1e9;
    try {
      await work();
      reported.delete(name);
      return { name, status: 'ok', durationSeconds: seconds() };
    } catch (err) {
      const error = (err as Error).message;
      if (isUnsupported(err)) {
        if (!reported.has(name)) log.info({ collector: name, reason: error }, 'collector unsupported on this host');
        reported.add(name);
        return { name, status: 'unsupported', durationSeconds: seconds(), error };
      }
      reported.delete(name);
      log.warn({ collector: name, err: error }, 'collector failed');
      return { name, status: 'failed', durationSeconds: seconds(), error };
    }
  };

  for (const { spec, instance } of parts.collectors) outcomes.push(await timed(spec.name, () => instance.update(sink)));
  for (const outcome of outcomes) writeHealth(sink, outcome);
  sink.set('contention_last_sample_timestamp_seconds', {}, timestamp / 1000);
  sink.set('contention_sample_interval_seconds', {}, parts.intervalSeconds);
  parts.history?.recordMeasured(snapshot(), sink);
  for (const stage of parts.stages ?? []) {
    const before = mark();
    const outcome = await timed(stage.name, () => stage.run(snapshot(), sink));
    outcomes.push(outcome);
    writeHealth(sink, outcome);
    parts.history?.recordDerived(timestamp, since(before));
  }
  return snapshot();
}

export function createSampler(opts: SamplerOptions): Sampler {
  const listeners: Array<(sample: Sample) => void> = [];
  let parts: PipelineParts = opts;
  let latest: { sample: Sample; exposition: Exposition } | undefined;
  let timer: NodeJS.Timeout | undefined;
  // Each start begins a new generation; a loop of an older one ends instead of scheduling more.
  let generation = 0;
  let looping = false;
  let running: Promise<Sample> | undefined;
  const reported = new Set<string>();

  const takeSample = async (): Promise<Sample> => {
    const sample = await runPipeline(parts, Date.now(), reported);
    latest = { sample, exposition: await opts.renderer.render(sample) };
    for (const listener of listeners) {
      try {
        listener(sample);
      } catch (err) {
        opts.log.error({ err: (err as Error).message }, 'sample listener failed');
      }
    }
    return sample;
  };

  const sampleOnce = (): Promise<Sample> => {
    // Never two samples at once: a slow sample delays the next instead of piling up.
    running ??= takeSample().finally(() => {
      running = undefined;
    });
    return running;
  };

  const loop = async (gen: number): Promise<void> => {
    const started = Date.now();
    await sampleOnce().catch((err: Error) => opts.log.error({ err: err.message }, 'sample failed'));
    if (gen !== generation) return;
    const delay = Math.max(0, parts.intervalSeconds * 1000 - (Date.now() - started));
    timer = setTimeout(() => void loop(gen), delay);
  };

  const start = (): void => {
    looping = true;
    if (timer) clearTimeout(timer);
    void loop(++generation);
  };
  const halt = (): void => {
    generation++;
    if (timer) clearTimeout(timer);
  };

  return {
    latest: () => latest,
    sampleOnce,
    onSample: (listener) => void listeners.push(listener),
    start,
    async reconfigure(next) {
      halt();
      await running?.catch(() => undefined);
      parts = { ...parts, collectors: next.collectors, intervalSeconds: next.intervalSeconds, stages: next.stages };
      if (looping) start();
    },
    stop() {
      looping = false;
      halt();
    },
  };
}
