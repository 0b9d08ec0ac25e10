import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { leakCaptureTargets } from '../../agent/capture/leak-trigger.js';
import { clockTicksPerSecond } from '../../agent/procfs/clock-ticks.js';
import { createPageState } from '../../agent/http/state.js';
import { seriesOf } from '../../agent/metrics/sample.js';
import { waitFor } from '../helpers/agent.js';
import { killAllChildren, SCRIPTS, startChild } from '../helpers/children.js';
import { auditOf, childCriteria, counter, exitWithin, startEngine } from '../helpers/engine.js';
import { requireTool } from '../helpers/tools.js';
import { coreIdentity } from './elf-core.js';
import type { Alert } from '../../agent/alerts/alert.js';
import type { ProcessRow } from '../../agent/process/table.js';

const MiB = 2 ** 20;
afterEach(() => killAllChildren());

describe('a dump before a policy stop', () => {
  it('a policy stop on a leaking child leaves a core of that child in its evidence directory, audited and listed', async () => {
    requireTool('gdb');
    const readelf = requireTool('readelf');
    const child = await startChild(SCRIPTS.leak(2, 50));
    const running = await startEngine(`criteria:
${childCriteria('leaky', child.token)}policies:
  - name: guard
    allocations:
      - criteria: leaky
        max_committed_memory: { limit: 80MiB, action: stop, for: 1s }
active_policy: guard
capture: { before_stop: true }
enforcement: { stop_grace: 2s }
`);
    expect(await exitWithin(child.proc, 120_000), 'the leaking child was stopped').toBeDefined();
    await waitFor(() => auditOf(running, 'stop').length === 1, 10_000, 'the stop audit line');
    const [stop] = auditOf(running, 'stop');
    const [dump] = auditOf(running, 'capture');
    expect(dump).toMatchObject({ policy: 'guard', criteria: 'leaky', pid: child.pid, trigger: 'before_stop', outcome: 'captured', process: 'node' });
    // The dump is in the stop's own evidence directory, written before the stop was.
    expect(dump!.evidence).toBe(stop!.evidence);
    const lines = running.audit().map((l) => l.action);
    expect(lines.indexOf('capture')).toBeLessThan(lines.indexOf('stop'));
    const core = join(String(stop!.evidence), `process-${child.pid}.core`);
    expect(dump!.file).toBe(core);
    expect(execFileSync(readelf, ['-h', core], { encoding: 'utf8' })).toMatch(/Type:\s+CORE \(Core file\)/);
    expect(coreIdentity(core)).toMatchObject({ pid: child.pid, fname: 'node' });
    expect(Number(dump!.bytes)).toBe(Number(execFileSync('stat', ['-c', '%s', core], { encoding: 'utf8' })));

    // Beside the core: the host snapshot with the tripping measure's history, and the stop's own evidence.
    const host = JSON.parse(readFileSync(join(String(stop!.evidence), 'host.json'), 'utf8')) as { tripping: { measure: string; limit: number; points: unknown[] }; meminfo: Record<string, number>; top_processes: Array<{ pid: number }> };
    expect(host.tripping).toMatchObject({ measure: 'committed_memory', limit: 80 * MiB });
    expect(host.tripping.points.length).toBeGreaterThan(0);
    expect(host.top_processes.some((p) => p.pid === child.pid)).toBe(true);
    expect(existsSync(join(String(stop!.evidence), 'decision.json'))).toBe(true);

    // Listed on the page and /api/v1/state, counted in the metrics.
    const state = createPageState(running.agent)();
    expect(state?.captures[0]).toMatchObject({ trigger: 'before_stop', pid: child.pid, outcome: 'captured', file: core });
    await waitFor(() => counter(running, 'contention_policy_actions_total', { action: 'capture', outcome: 'captured' }) === 1, 10_000, 'the capture action counted');
    const last = running.samples().at(-1)!;
    expect(seriesOf(last, 'contention_capture_dumps_total').find((s) => s.labels.trigger === 'before_stop')).toMatchObject({ labels: { outcome: 'captured' }, value: 1 });
    expect(seriesOf(last, 'contention_capture_kept_dumps')[0]?.value).toBe(1);
    await running.stop();
    rmSync(running.dir, { recursive: true, force: true });
  }, 180_000);

  it('a stop still happens when the dump is refused, and the refusal is audited', async () => {
    requireTool('gdb');
    const child = await startChild(SCRIPTS.leak(2, 50));
    const running = await startEngine(`criteria:
${childCriteria('leaky', child.token)}policies:
  - name: guard
    allocations:
      - criteria: leaky
        max_committed_memory: { limit: 60MiB, action: stop, for: 1s }
active_policy: guard
capture: { before_stop: true, max_process_bytes: 1MiB }
enforcement: { stop_grace: 2s }
`);
    expect(await exitWithin(child.proc, 60_000)).toBeDefined();
    await waitFor(() => auditOf(running, 'stop').length === 1, 10_000, 'the stop audit line');
    expect(auditOf(running, 'capture')).toEqual([expect.objectContaining({ outcome: 'refused', reason: expect.stringMatching(/^process_too_large/) })]);
    expect(existsSync(join(String(auditOf(running, 'stop')[0]!.evidence), `process-${child.pid}.core`))).toBe(false);
  }, 120_000);
});

describe('which process a first leak flag dumps', () => {
  const row = (pid: number, group: string, privateBytes: number): ProcessRow =>
    ({ pid, ppid: 1, startTime: 1000 + pid, state: 'S', privateBytes, workingSetBytes: privateBytes, virtualBytes: privateBytes, threads: 1, cpuSeconds: 0, handles: 3, criteria: [group], processGroup: group, comm: 'app', exe: '/app', cmdline: '', argv0: 'app', user: 'root', uid: 0, group: 'root', gid: 0 }) as unknown as ProcessRow;
  const leak = (labels: Record<string, string>, state: Alert['state'] = 'firing'): Alert => ({ labels: { alertname: 'LeakSuspected', severity: 'warning', resource: 'private_bytes', ...labels }, annotations: {}, activeAt: 0, state, source: 'detector' });
  const rows = [row(10, 'web', 100 * MiB), row(11, 'web', 300 * MiB), row(12, 'db', 50 * MiB), row(13, 'bash', 900 * MiB)];
  const criteria = new Set(['web', 'db']);

  it('the group\'s largest for a group leak, the named process for a process leak, never an unmatched group', () => {
    const targets = leakCaptureTargets(
      [leak({ subject_kind: 'process_group', subject: 'web', group: 'web' }), leak({ subject_kind: 'process', subject: 'app[12]', group: 'db', pid: '12' }), leak({ subject_kind: 'process_group', subject: 'bash', group: 'bash' })],
      rows, criteria, new Map(), 10_000, 3_600_000,
    );
    expect(targets.map((t) => [t.group, t.row.pid])).toEqual([['web', 11], ['db', 12]]);
  });

  it('once per group per period; resolved flags and other alerts dump nothing', () => {
    const flags = [leak({ subject_kind: 'process_group', subject: 'web', group: 'web' }), leak({ subject_kind: 'process_group', subject: 'web', group: 'web', resource: 'handles' })];
    expect(leakCaptureTargets(flags, rows, criteria, new Map(), 0, 3_600_000)).toHaveLength(1);
    expect(leakCaptureTargets(flags, rows, criteria, new Map([['web', 0]]), 3_599_999, 3_600_000)).toEqual([]);
    expect(leakCaptureTargets(flags, rows, criteria, new Map([['web', 0]]), 3_600_000, 3_600_000)).toHaveLength(1);
    expect(leakCaptureTargets([leak({ subject_kind: 'process_group', group: 'web' }, 'resolved')], rows, criteria, new Map(), 0, 1)).toEqual([]);
    expect(leakCaptureTargets([{ ...leak({ subject_kind: 'host', subject: 'commit' }), labels: { alertname: 'CommitNearLimit', group: 'web' } }], rows, criteria, new Map(), 0, 1)).toEqual([]);
  });
});

describe('a dump at a first leak flag (capture.on_leak)', () => {
  it('dumps the flagged group\'s process once per period, with a host snapshot, and tells the auditor', async () => {
    requireTool('gdb');
    const { createCaptures } = await import('../../agent/capture/captures.js');
    const { createGcoreDumper } = await import('../../agent/platform/linux/gcore.js');
    const { configSchema } = await import('../../agent/config/schema.js');
    const { createLogger } = await import('../../agent/log.js');
    const { processRow, recordingSink, sampleOf } = await import('../helpers/builders.js');
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const child = await startChild(SCRIPTS.leak(1, 200));
    const dir = mkdtempSync(join(tmpdir(), 'ca-leak-capture-'));
    const config = configSchema.parse({
      criteria: [{ name: 'web', include: [{ cmdline: child.token }] }],
      capture: { on_leak: true, leak_period: '1h' },
      enforcement: { evidence_dir: join(dir, 'evidence'), audit_log: { path: join(dir, 'audit.jsonl') } },
    });
    const audited: unknown[] = [];
    const flag: Alert = { labels: { alertname: 'LeakSuspected', severity: 'warning', subject_kind: 'process_group', subject: 'web', resource: 'private_bytes', group: 'web' }, annotations: {}, activeAt: 0, state: 'firing', source: 'detector' };
    const captures = createCaptures({ config, log: createLogger('error', 'json'), dumper: createGcoreDumper(), alerts: () => [flag], onRecord: (r) => audited.push(r) });
    const rows = [processRow({ pid: child.pid, startTime: startTimeOf(child.pid), processGroup: 'web', criteria: ['web'], comm: 'node' })];
    const t0 = Date.now();
    captures.stage.run(sampleOf(t0, {}, { processes: { rows, timestamp: t0 } }), recordingSink().sink);
    // The same flag a sample later, within the period: no second dump.
    captures.stage.run(sampleOf(t0 + 1000, {}, { processes: { rows, timestamp: t0 + 1000 } }), recordingSink().sink);
    await captures.stop();
    expect(captures.recent()).toEqual([expect.objectContaining({ trigger: 'leak', criteria: 'web', pid: child.pid, outcome: 'captured' })]);
    expect(audited).toHaveLength(1);
    const record = captures.recent()[0]!;
    expect(coreIdentity(record.file!).pid).toBe(child.pid);
    expect(existsSync(join(record.dir, 'host.json'))).toBe(true);
    expect(child.proc.exitCode).toBeNull();
    const sink = recordingSink();
    captures.stage.run(sampleOf(t0 + 2000, {}, {}), sink.sink);
    expect(sink.value('contention_capture_dumps_total', { trigger: 'leak', outcome: 'captured' })).toBe(1);
    expect(sink.value('contention_capture_kept_dumps')).toBe(1);
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);
});

/** The process table's start time of a live pid (Unix ms), as the agent computes it. */
function startTimeOf(pid: number): number {
  const hz = clockTicksPerSecond();
  const boot = Number(/^btime (\d+)/m.exec(readFileSync('/proc/stat', 'utf8'))![1]);
  const ticks = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[19]);
  return Math.round((boot + ticks / hz) * 1000);
}
