import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { unsupported, type Collector } from '../../agent/collectors/collector.js';
import { createHistoryStage } from '../../agent/history/stage.js';
import { createLogger } from '../../agent/log.js';
import { labelsKey } from '../../agent/metrics/labels.js';
import { seriesOf, type Stage } from '../../agent/metrics/sample.js';
import { runPipeline } from '../../agent/sampler/sampler.js';
import { processRow, testHistory } from '../helpers/builders.js';

const T0 = 1_700_000_000_000;

function logged() {
  const lines: Array<Record<string, unknown>> = [];
  const log = createLogger('info', 'json', new Writable({ write: (chunk, _e, done) => (lines.push(JSON.parse(String(chunk)) as Record<string, unknown>), done()) }));
  return { log, lines };
}

const collector = (name: string, update: Collector['update']) => ({ spec: { name }, instance: { update } });

describe('the sample pipeline', () => {
  it('records each series once, in order: collectors and health before the stages, each stage as soon as it has run', async () => {
    const history = testHistory();
    const recorded: string[] = [];
    const record = history.record;
    // Every series the history is handed, by name and labels.
    history.record = (s) => {
      for (const [name, list] of s.families) for (const x of list) recorded.push(`${name} ${labelsKey(x.labels)}`);
      record(s);
    };
    const seen: Record<string, number | undefined> = {};
    const first: Stage = {
      name: 'first',
      run: (_s, sink) => sink.set('contention_leak_suspected', { subject_kind: 'host', subject: 'x', resource: 'pool_bytes' }, 1),
    };
    const second: Stage = {
      name: 'second',
      run(s) {
        // What an earlier stage and the collectors wrote this sample is already in history, at this sample's time.
        const at = (name: string) => history.select(name, s.timestamp, s.timestamp)[0]?.points[0]?.v;
        seen.leak = at('contention_leak_suspected');
        seen.table = at('contention_kernel_table_free_entries');
        seen.firstHealth = history.select('contention_collector_success', s.timestamp, s.timestamp).find((x) => x.labels.collector === 'first')?.points[0]?.v;
        seen.interval = at('contention_sample_interval_seconds');
      },
    };
    const { log } = logged();
    const sample = await runPipeline(
      {
        collectors: [
          collector('tables', (sink) => {
            sink.set('contention_kernel_table_free_entries', { table: 'pids' }, 42);
            sink.publish('processes', { timestamp: T0, rows: [processRow({ pid: 7, criteria: ['c'] })] } as never);
          }),
        ],
        history: createHistoryStage(history, { watchedProcesses: (rows) => rows }),
        stages: [first, second],
        intervalSeconds: 5,
        log,
      },
      T0,
    );
    expect(seen).toEqual({ leak: 1, table: 42, firstHealth: 1, interval: 5 });
    // No series was recorded twice.
    expect(recorded.length).toBe(new Set(recorded).size);
    expect(recorded).toContain(`contention_collector_success ${labelsKey({ collector: 'first' })}`);
    // The watched process got its rings.
    expect(history.select('process:private_bytes', T0, T0).map((s) => s.labels.pid)).toEqual(['7']);
    expect(seriesOf(sample, 'contention_collector_success').map((s) => s.labels.collector)).toEqual(['tables', 'first', 'second']);
  });

  it('shows an unsupported collector as such, logs it once at info, and still fails one that cannot read', async () => {
    const { log, lines } = logged();
    const reported = new Set<string>();
    const parts = {
      collectors: [
        collector('pressure', () => {
          throw unsupported('/proc/pressure/cpu is absent');
        }),
        collector('broken', () => {
          throw new Error('malformed row');
        }),
      ],
      intervalSeconds: 5,
      log,
    };
    const samples = [];
    for (let i = 0; i < 3; i++) samples.push(await runPipeline(parts, T0 + i * 5000, reported));
    const last = samples.at(-1)!;
    expect(last.collectors.map((c) => [c.name, c.status])).toEqual([
      ['pressure', 'unsupported'],
      ['broken', 'failed'],
    ]);
    expect(seriesOf(last, 'contention_collector_success')).toEqual([{ labels: { collector: 'broken' }, value: 0 }]);
    expect(seriesOf(last, 'contention_collector_unsupported')).toEqual([{ labels: { collector: 'pressure' }, value: 1 }]);
    const about = (name: string) => lines.filter((l) => l.collector === name);
    expect(about('pressure').map((l) => [l.level, l.msg])).toEqual([['info', 'collector unsupported on this host']]);
    expect(about('broken').map((l) => l.msg)).toEqual(['collector failed', 'collector failed', 'collector failed']);
  });
});
