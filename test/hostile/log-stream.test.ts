import { afterAll, describe, expect, it } from 'vitest';
import { parseExposition, startAgent, type RunningAgent, waitFor, writeConfig } from '../helpers/agent.js';

const agents: RunningAgent[] = [];
afterAll(async () => {
  for (const a of agents) await a.stop();
});

describe('a closed log stream is never fatal', () => {
  {
    const format = 'logfmt';
    it(`the agent outlives its stderr pipe closing and a SIGHUP's log line, and counts the lines dropped`, async () => {
      const config = writeConfig(`sampling:\n  interval: 1s\n  queue_interval: 1s\nlog:\n  format: ${format}\n  level: debug\n`);
      const agent = await startAgent([`--config.file=${config}`]);
      agents.push(agent);
      // As `agent 2>&1 | head -1` does: the reading end goes away.
      agent.proc.stderr!.destroy();
      agent.proc.stdout!.destroy();
      for (let i = 0; i < 3; i++) {
        agent.proc.kill('SIGHUP');
        await new Promise((r) => setTimeout(r, 300));
      }
      let failures = 0;
      await waitFor(
        async () => {
          const res = await fetch(`${agent.url}/metrics`);
          failures = parseExposition(await res.text()).find((s) => s.name === 'contention_log_write_failures_total')?.value ?? 0;
          return failures >= 1;
        },
        15_000,
        'the dropped log lines to be counted',
      );
      expect(agent.proc.exitCode).toBeNull();
      expect(agent.proc.signalCode).toBeNull();
      expect((await fetch(`${agent.url}/-/healthy`)).status).toBe(200);
    });
  }

  it('a logger whose stream fails with EPIPE, in either format, neither throws nor stops logging to nothing', async () => {
    const { Writable } = await import('node:stream');
    const { createLogger, logWriteFailures } = await import('../../agent/log.js');
    for (const format of ['logfmt', 'json'] as const) {
      const broken = new Writable({
        write(_chunk, _enc, done) {
          done(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));
        },
      });
      const log = createLogger('info', format, broken);
      const before = logWriteFailures();
      log.info('first');
      await new Promise((r) => setImmediate(r));
      log.info('after the stream broke');
      log.error({ errors: ['x'] }, 'config reload failed');
      await new Promise((r) => setImmediate(r));
      expect(logWriteFailures() - before, format).toBeGreaterThanOrEqual(2);
    }
  });
});
