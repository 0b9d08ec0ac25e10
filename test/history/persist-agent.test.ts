import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startAgent, waitFor } from '../helpers/agent.js';
import { decodeHistory, HISTORY_FILE } from '../../agent/history/persist.js';

describe('the running agent and its saved history', () => {
  it('starts with a warning past a corrupt file, and saves its own over it at shutdown', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ca-state-'));
    writeFileSync(join(dir, HISTORY_FILE), 'contention-agent history v1\n\u0005garbage');
    const agent = await startAgent([`--path.state-dir=${dir}`, '--no-collector.processes']);
    await agent.waitForLog(/msg="saved history ignored; starting afresh" reason=".*history\.bin: .*ignored"/);
    await waitFor(async () => (await (await fetch(`${agent.url}/metrics`)).text()).includes('contention_history_series'), 10_000, 'a sample');
    await agent.stop();
    const saved = decodeHistory(readFileSync(join(dir, HISTORY_FILE)));
    expect(saved.series.some((s) => s.name === 'host:boot_time')).toBe(true);
    expect(saved.series.some((s) => s.name === 'contention_memory_available_bytes')).toBe(true);
  });

  it('goes on without persisting when the state directory cannot be written, and says so', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ca-state-')), 'a-file');
    writeFileSync(file, '');
    const agent = await startAgent([`--path.state-dir=${join(file, 'sub')}`, '--no-collector.processes']);
    try {
      agent.proc.kill('SIGTERM');
      await agent.waitForLog(/msg="cannot save the history; it is kept in memory only until this works"/);
    } finally {
      await agent.stop();
    }
  });
});
