import type { Logger } from 'pino';
import type { Alert } from '../alerts/alert.js';
import type { Config } from '../config/schema.js';
import type { Point } from '../history/source.js';
import { labelsKey } from '../metrics/labels.js';
import type { LabelsOf } from '../metrics/catalog.js';
import type { Sample, Stage } from '../metrics/sample.js';
import type { Part, Settings } from '../part.js';
import { createCapturer, type CaptureRecord, type CaptureRequest, type Capturer } from './capture.js';
import { captureDirName } from './dir-name.js';
import { assessCaptureReadiness } from './doctor.js';
import type { ProcessDumper } from './dumper.js';
import { writeHostSnapshot } from './host-snapshot.js';
import { leakCaptureTargets } from './leak-trigger.js';
import { listKeptDumps } from './store.js';
import { join } from 'node:path';

const RECENT = 20;

export interface CaptureRequestWithHistory extends CaptureRequest {
  /** The measure that tripped and its recent history, for the host snapshot. */
  readonly tripping?: { readonly measure: string; readonly limit?: number; readonly points: readonly Point[] };
}

/** The running agent's captures: before a policy stop (asked by the policy engine) and at a first leak flag (its own stage). */
export interface Captures extends Part {
  /** Takes a bounded dump and writes the host snapshot beside it; counted and told to `onRecord`. */
  capture(req: CaptureRequestWithHistory): Promise<CaptureRecord>;
  /** The most recent captures, newest first, for the page. */
  recent(): readonly CaptureRecord[];
}

export interface CapturesOptions {
  readonly config: Config;
  readonly log: Logger;
  readonly dumper: ProcessDumper;
  /** The agent's alerts now: the leak flags that trigger a dump, and the verdicts the snapshot keeps. */
  readonly alerts: () => readonly Alert[];
  /** Told of every capture (the policy engine audits it). */
  readonly onRecord?: (record: CaptureRecord) => void;
}

export function createCaptures(opts: CapturesOptions): Captures {
  const { log } = opts;
  let config = opts.config;
  const capturer: Capturer = createCapturer({ config: () => config, dumper: opts.dumper });
  const recent: CaptureRecord[] = [];
  const counts = new Map<string, { labels: LabelsOf<'contention_capture_dumps_total'>; n: number }>();
  const lastLeakCapture = new Map<string, number>();
  const inFlight = new Set<Promise<unknown>>();
  let latest: Sample | undefined;
  let kept = listKeptDumps(config.enforcement.evidence_dir);
  let stopped = false;

  const capture = async (req: CaptureRequestWithHistory): Promise<CaptureRecord> => {
    const row = latest?.facts.processes?.rows.find((r) => r.pid === req.target.pid && (req.target.startTime === undefined || r.startTime === req.target.startTime));
    const record = await capturer.capture({ ...req, ...(req.known || !row ? {} : { known: { privateBytes: row.privateBytes } }) });
    try {
      const readiness = await assessCaptureReadiness(config).catch(() => []);
      writeHostSnapshot(req.dir, { now: record.time, procfs: config.paths.procfs, sample: latest, alerts: opts.alerts(), readiness, ...(req.tripping ? { tripping: req.tripping } : {}) });
    } catch (err) {
      log.warn({ err: (err as Error).message, dir: req.dir }, 'host snapshot could not be written');
    }
    const key = labelsKey({ trigger: record.trigger, outcome: record.outcome });
    const entry = counts.get(key) ?? { labels: { trigger: record.trigger, outcome: record.outcome }, n: 0 };
    entry.n++;
    counts.set(key, entry);
    recent.unshift(record);
    recent.length = Math.min(recent.length, RECENT);
    kept = listKeptDumps(config.enforcement.evidence_dir);
    const level = record.outcome === 'captured' ? 'info' : 'warn';
    log[level]({ trigger: record.trigger, pid: record.pid, process: record.name, outcome: record.outcome, reason: record.reason, file: record.file, bytes: record.bytes, seconds: record.seconds }, 'process dump');
    opts.onRecord?.(record);
    return record;
  };

  const stage: Stage = {
    name: 'capture',
    run(sample, sink) {
      latest = sample;
      for (const { labels, n } of counts.values()) sink.set('contention_capture_dumps_total', labels, n);
      sink.set('contention_capture_kept_dumps', {}, kept.length);
      sink.set('contention_capture_kept_bytes', {}, kept.reduce((n, d) => n + d.bytes, 0));
      const rows = sample.facts.processes?.rows;
      if (!config.capture.on_leak || !rows || stopped) return;
      const criteria = new Set(config.criteria.map((c) => c.name));
      for (const t of leakCaptureTargets(opts.alerts(), rows, criteria, lastLeakCapture, sample.timestamp, config.capture.leak_period * 1000)) {
        lastLeakCapture.set(t.group, sample.timestamp);
        const dir = join(config.enforcement.evidence_dir, captureDirName(sample.timestamp, t.row.pid, 'leak'));
        // In the background: a dump pauses its process for seconds, and sampling must not wait.
        const p = capture({ target: { pid: t.row.pid, startTime: t.row.startTime }, name: t.row.comm, trigger: 'leak', criteria: t.group, dir, known: { privateBytes: t.row.privateBytes } })
          .catch((err: Error) => log.error({ err: err.message }, 'leak capture failed'))
          .finally(() => inFlight.delete(p));
        inFlight.add(p);
      }
    },
  };

  return {
    stage,
    capture,
    recent: () => recent,
    reconfigure(next: Settings) {
      config = next.config;
    },
    async stop() {
      stopped = true;
      await Promise.all([...inFlight]);
    },
  };
}
