import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { killAllChildren, startChild } from '../helpers/children.js';
import { alive, childCriteria, exitWithin, holdFds, startEngine } from '../helpers/engine.js';
import { waitFor } from '../helpers/agent.js';

afterAll(killAllChildren);

const policy = (token: string, limits: string, extra = '') => `criteria:
${childCriteria('kid', token)}policies:
  - name: guard
    allocations:
      - criteria: kid
${limits}active_policy: guard
enforcement: { dry_run: false, stop_grace: 1s, max_stops_per_hour: 1${extra} }
`;

describe('stops are audited before they happen, counted once, and their budget outlives a restart', () => {
  it('the intent line is on disk before the first signal; the outcome follows', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'ca-intent-'));
    const pathFile = join(tmp, 'audit-path');
    const seen = join(tmp, 'seen');
    // On SIGTERM the child copies what the audit log holds at that moment, then exits.
    const child = await startChild(`
      process.on('SIGTERM', () => { const fs = require('fs'); const audit = fs.readFileSync(${JSON.stringify(pathFile)}, 'utf8'); fs.writeFileSync(${JSON.stringify(seen)}, fs.existsSync(audit) ? fs.readFileSync(audit) : ''); process.exit(0); });
      ${holdFds(40)}`);
    const engine = await startEngine(policy(child.token, '        max_handles: { limit: 30, action: stop, for: 2s }\n'));
    writeFileSync(pathFile, join(engine.dir, 'audit.jsonl'));
    expect(await exitWithin(child.proc, 20_000)).toBeDefined();
    const atSignal = readFileSync(seen, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(atSignal.filter((a) => a.action === 'stop').map((a) => [a.pid, a.outcome])).toEqual([[child.pid, 'stopping']]);
    await waitFor(() => engine.audit().some((a) => a.action === 'stop' && a.outcome === 'stopped'), 10_000, 'the outcome line');
  });

  it('a process over two stop limits is one stop and one unit of the budget', async () => {
    const child = await startChild(holdFds(40));
    const engine = await startEngine(
      policy(child.token, '        max_handles: { limit: 30, action: stop }\n        max_committed_memory: { limit: 1MiB, action: stop }\n'),
    );
    await waitFor(() => !alive(child), 20_000, 'the child to be stopped');
    await waitFor(() => engine.audit().some((a) => a.action === 'stop' && a.outcome !== 'stopping'), 10_000, 'the outcome line');
    const stops = engine.audit().filter((a) => a.action === 'stop');
    expect(stops.map((a) => a.outcome)).toEqual(['stopping', 'stopped']);
    expect(engine.audit().some((a) => a.outcome === 'rate_limited')).toBe(false);
    expect(JSON.parse(readFileSync(join(engine.dir, 'policy-stops.json'), 'utf8'))).toHaveLength(1);
  });

  it('the stop budget is read back at start: a stop in the last hour before a restart still counts', async () => {
    const state = mkdtempSync(join(tmpdir(), 'ca-state-'));
    writeFileSync(join(state, 'policy-stops.json'), JSON.stringify([{ policy: 'guard', at: Date.now() - 60_000, key: '1:1' }]));
    const child = await startChild(holdFds(40));
    const engine = await startEngine(policy(child.token, '        max_handles: { limit: 30, action: stop }\n', `, state_dir: ${JSON.stringify(state)}`));
    await waitFor(() => engine.audit().some((a) => a.outcome === 'rate_limited'), 20_000, 'the stop to be held back by the budget');
    expect(alive(child)).toBe(true);
    expect(engine.audit().some((a) => a.action === 'stop' && a.outcome === 'stopping')).toBe(false);
  });
});
