import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../agent/config/load.js';
import { CLI, writeConfig } from '../helpers/agent.js';

const errorsOf = (text: string): string[] => {
  const result = parseConfigText(text, 'agent.yaml');
  return result.ok ? [] : result.errors;
};

describe('every duration, number and address is bounded to what the code can honour', () => {
  it('a sampling interval past Node timers (24.8 days) is refused, and so is one too short to sample in', () => {
    expect(errorsOf('sampling:\n  interval: 30d\n')).toEqual([
      'agent.yaml:2: sampling.interval: expected a duration of at most 24d20h31m23.647s, the longest timer Node.js can set (got "30d")',
    ]);
    expect(errorsOf('sampling:\n  interval: 1ms\n  queue_interval: 1ms\n')[0]).toMatch(/^agent\.yaml:2: sampling\.interval: expected a duration above 0.1s/);
    expect(errorsOf('sampling:\n  interval: 24d\n')).toEqual([]);
  });

  it('stop_grace 1e308 and a byte limit of 1e26 are refused', () => {
    expect(errorsOf('enforcement:\n  stop_grace: 1e308\n')[0]).toMatch(/^agent\.yaml:2: enforcement\.stop_grace: expected a duration of at most 24d20h31m23\.647s/);
    const criteria = 'criteria:\n  - name: w\n    include: [{ name: w }]\n';
    const limit = errorsOf(`${criteria}policies:\n  - name: p\n    allocations:\n      - criteria: w\n        max_committed_memory: { limit: 1e26, action: log }\n`);
    expect(limit[0]).toMatch(/max_committed_memory\.limit: expected a byte size of at most 8 PiB/);
    expect(errorsOf('enforcement:\n  max_stops_per_hour: 1e300\n')[0]).toMatch(/enforcement\.max_stops_per_hour/);
  });

  it('listen addresses: ports past 65535, octets past 255 and bad IPv6 are refused; good ones pass', () => {
    expect(errorsOf('web:\n  listen_address: "999.1.1.1:99999"\n')).toEqual(['agent.yaml:2: web.listen_address: expected a port from 0 to 65535 (got 99999)']);
    expect(errorsOf('web:\n  listen_address: "999.1.1.1:9947"\n')).toEqual(['agent.yaml:2: web.listen_address: expected an IPv4 address with four parts from 0 to 255 (got "999.1.1.1")']);
    expect(errorsOf('web:\n  listen_address: "[1::2::3]:9947"\n')[0]).toMatch(/expected an IPv6 address/);
    expect(errorsOf('web:\n  listen_address: "bad_host!:9947"\n')[0]).toMatch(/expected a host name or address/);
    for (const ok of [':9947', '127.0.0.1:9947', '[::1]:9947', 'localhost:0', 'agent.example.internal:65535']) expect(errorsOf(`web:\n  listen_address: "${ok}"\n`), ok).toEqual([]);
  });

  it('a history sized past 4 GiB is refused before anything is allocated', () => {
    const errors = errorsOf('sampling:\n  interval: 100ms\n  queue_interval: 100ms\nhistory:\n  raw_retention: 7d\n  max_series: 100000\n');
    expect(errors[0]).toMatch(/^agent\.yaml:\d+: history: history would take .* at most/);
    expect(errorsOf('history:\n  retention: 1000d\n')[0]).toMatch(/history\.retention: expected a duration of at most 400d/);
  });

  it('check-config exits 1 on each of the values the issue found accepted', () => {
    const file = writeConfig('sampling:\n  interval: 30d\nweb:\n  listen_address: "999.1.1.1:99999"\nenforcement:\n  stop_grace: 1e308\n');
    const result = spawnSync(process.execPath, [CLI, 'check-config', file], { encoding: 'utf8' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`${file}: invalid (3 errors)`);
  });
});

describe('what one config can ask the sampler to do is bounded', () => {
  it('more than 1000 criteria are refused', () => {
    const many = Array.from({ length: 1001 }, (_, i) => `  - name: c${i}\n    include: [{ cmdline: "w${i}" }]`).join('\n');
    expect(errorsOf(`criteria:\n${many}\n`)).toEqual(['agent.yaml:2: criteria: expected at most 1000 criteria']);
  });
});
