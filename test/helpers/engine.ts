import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { onTestFinished } from 'vitest';
import { createAgent, type Agent } from '../../agent/agent.js';
import { parseConfigText } from '../../agent/config/load.js';
import type { Config } from '../../agent/config/schema.js';
import { createLogger } from '../../agent/log.js';
import { seriesOf, type Sample } from '../../agent/metrics/sample.js';
import { linuxPlatform } from '../../agent/platform/platform.js';
import type { PolicyEngine } from '../../agent/policy/engine.js';
import type { Sampler } from '../../agent/sampler/sampler.js';

export interface EngineUnderTest {
  readonly agent: Agent;
  readonly engine: PolicyEngine;
  readonly sampler: Sampler;
  readonly config: Config;
  /** Temp directory holding the audit log and evidence. */
  readonly dir: string;
  /** JSON log lines the engine wrote. */
  logs(): Array<Record<string, unknown>>;
  /** Audit log entries so far. */
  audit(): Array<Record<string, unknown>>;
  /** Every sample taken so far, oldest first. */
  samples(): Sample[];
  stop(): Promise<void>;
}

/**
 * The policy engine in this process on the real sampling path, built by the agent's own assembly:
 * the cpu and processes collectors on the real /proc (the others are switched off), the history the
 * evidence reads, the detector, then the engine, sampling every `interval`. The audit log and
 * evidence go to a fresh temp directory. Call it inside a test: it stops when that test finishes.
 */
export async function startEngine(yaml: string, interval = '500ms'): Promise<EngineUnderTest> {
  const dir = mkdtempSync(join(tmpdir(), 'ca-policy-'));
  const text = `sampling: { interval: ${interval}, queue_interval: 250ms }
collectors: { kernel_tables: false, kernel_pools: false, memory: false, disk_queue: false, pressure: false, host_info: false, capture: false }
${/^capture:/m.test(yaml) ? '' : '# Policy tests that are not about dumps take none (a gcore of a Node child writes about 1 GB).\ncapture: { before_stop: false }\n'}${yaml}`.replace(/enforcement:\s*\{/, `enforcement: { audit_log: { path: ${JSON.stringify(join(dir, 'audit.jsonl'))} }, evidence_dir: ${JSON.stringify(join(dir, 'evidence'))}, `);
  const parsed = parseConfigText(text, 'policy-test.yaml');
  if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
  // Its saved history and stop budget stay in the test's directory, not the machine's state directory.
  const config = { ...parsed.config, paths: { ...parsed.config.paths, state_dir: dir } };
  if (!config.enforcement.audit_log.path.startsWith(dir)) throw new Error('the test config needs an `enforcement: { ... }` mapping');
  const lines: string[] = [];
  const log = createLogger('info', 'json', new Writable({ write: (chunk, _e, done) => (lines.push(String(chunk)), done()) }));
  const agent = await createAgent({ config, platform: linuxPlatform, log });
  const samples: Sample[] = [];
  agent.sampler.onSample((s) => void samples.push(s));
  agent.start();
  // Stopped with the test that started it (priorities it lowered go back), pass or fail.
  onTestFinished(() => agent.stop());
  return {
    agent,
    engine: agent.policy,
    sampler: agent.sampler,
    config,
    dir,
    logs: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
    audit: () => {
      try {
        return readFileSync(join(dir, 'audit.jsonl'), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
      } catch {
        return [];
      }
    },
    samples: () => samples,
    stop: () => agent.stop(),
  };
}

/** Criteria for one test child (its unique token is in its command line); root is named so the agent may act on it. */
export const childCriteria = (name: string, token: string, asRoot = process.getuid?.() === 0): string =>
  `  - name: ${name}\n    include: [{ cmdline: ${JSON.stringify(token)}${asRoot ? ', user: root' : ''} }]\n`;

/** Resolves with the time the child exited, or undefined if it still runs after `ms`. */
export function exitWithin(proc: ChildProcess, ms: number): Promise<number | undefined> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve(Date.now());
    const timer = setTimeout(() => resolve(undefined), ms);
    proc.once('exit', () => {
      clearTimeout(timer);
      resolve(Date.now());
    });
  });
}

/** A child script that holds `n` open descriptors; optionally ignores SIGTERM. */
export const holdFds = (n: number, stubborn = false): string =>
  `${stubborn ? "process.on('SIGTERM', () => {});" : ''} const fs = require('fs'); const fds = []; for (let i = 0; i < ${n}; i++) fds.push(fs.openSync('/dev/null', 'r')); console.log('ready'); setInterval(() => {}, 1e6);`;

export const alive = (c: { proc: ChildProcess }): boolean => c.proc.exitCode === null && c.proc.signalCode === null;

/** Audit lines of an action's outcomes; a stop's intent line (outcome `stopping`, written before the first signal) is not one. */
export const auditOf = (e: EngineUnderTest, action: string): Array<Record<string, unknown>> => e.audit().filter((a) => a.action === action && a.outcome !== 'stopping');

/** A policy counter's value in the latest sample. */
export function counter(e: EngineUnderTest, metric: 'contention_policy_actions_total' | 'contention_policy_violations_total', match: Record<string, string>): number | undefined {
  const last = e.samples().at(-1)!;
  return seriesOf(last, metric).find((s) => Object.entries(match).every(([k, v]) => s.labels[k] === v))?.value;
}
