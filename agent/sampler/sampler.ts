import type { Logger } from 'pino';
import type { Collector, CollectorSpec } from '../collectors/collector.js';
import type { MetricName } from '../metrics/catalog.js';
import type { CollectorOutcome, Labels, Sample, SampleFacts, SeriesValue, Sink } from '../metrics/sample.js';
import type { Exposition, ExpositionRenderer } from './exposition.js';

/**
 * A step that runs after the collectors on the same sample and may add derived series (trend
 * statistics, alert states, policy outcomes) before the exposition is rendered.
 */
export interface Stage {
  readonly name: string;
  run(sample: Sample, sink: Sink): void | Promise<void>;
}

export interface Sampler {
  /** The latest sample and its rendered exposition, or undefined before the first. */
  latest(): { sample: Sample; exposition: Exposition } | undefined;
  /** Runs one sample now; used by the loop and by one-shot commands. */
  sampleOnce(): Promise<Sample>;
  onSample(listener: (sample: Sample) => void): void;
  /** Starts the loop: a sample now, then one every interval. */
  start(): void;
  stop(): void;
}

export interface SamplerOptions {
  readonly collectors: ReadonlyArray<{ spec: CollectorSpec; instance: Collector }>;
  readonly stages?: readonly Stage[];
  readonly renderer: ExpositionRenderer;
  readonly intervalSeconds: number;
  readonly log: Logger;
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
  return { sink, families, facts };
}

export function createSampler(opts: SamplerOptions): Sampler {
  const listeners: Array<(sample: Sample) => void> = [];
  let latest: { sample: Sample; exposition: Exposition } | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let running: Promise<Sample> | undefined;

  const timed = async (name: string, work: () => void | Promise<void>): Promise<CollectorOutcome> => {
    const start = process.hrtime.bigint();
    try {
      await work();
      return { name, success: true, durationSeconds: Number(process.hrtime.bigint() - start) / 1e9 };
    } catch (err) {
      const error = (err as Error).message;
      opts.log.warn({ collector: name, err: error }, 'collector failed');
      return { name, success: false, durationSeconds: Number(process.hrtime.bigint() - start) / 1e9, error };
    }
  };

  const takeSample = async (): Promise<Sample> => {
    const timestamp = Date.now();
    const { sink, families, facts } = createSampleSink((metric, value) =>
      opts.log.warn({ metric, value }, 'dropped a non-finite value'),
    );
    const outcomes: CollectorOutcome[] = [];
    for (const { spec, instance } of opts.collectors) outcomes.push(await timed(spec.name, () => instance.update(sink)));
    for (const stage of opts.stages ?? []) {
      const partial: Sample = { timestamp, families, collectors: outcomes, facts };
      outcomes.push(await timed(stage.name, () => stage.run(partial, sink)));
    }
    for (const outcome of outcomes) {
      sink.set('contention_collector_success', { collector: outcome.name }, outcome.success ? 1 : 0);
      sink.set('contention_collector_duration_seconds', { collector: outcome.name }, outcome.durationSeconds);
    }
    sink.set('contention_last_sample_timestamp_seconds', {}, timestamp / 1000);
    sink.set('contention_sample_interval_seconds', {}, opts.intervalSeconds);
    const sample: Sample = { timestamp, families, collectors: outcomes, facts };
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

  const loop = async (): Promise<void> => {
    const started = Date.now();
    await sampleOnce().catch((err: Error) => opts.log.error({ err: err.message }, 'sample failed'));
    if (stopped) return;
    const delay = Math.max(0, opts.intervalSeconds * 1000 - (Date.now() - started));
    timer = setTimeout(() => void loop(), delay);
  };

  return {
    latest: () => latest,
    sampleOnce,
    onSample: (listener) => void listeners.push(listener),
    start() {
      stopped = false;
      void loop();
    },
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
