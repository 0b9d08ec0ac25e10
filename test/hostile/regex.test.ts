import { afterAll, describe, expect, it } from 'vitest';
import { compileRegex, regexError } from '../../agent/config/regex.js';
import { parseConfigText } from '../../agent/config/load.js';
import { compileCriteria } from '../../agent/process/criteria.js';
import { globToRegExp } from '../../agent/process/glob.js';
import { parsePromql, PromqlError } from '../../agent/promql/parse.js';
import { parseExposition, startAgent, stopProcess, writeConfig } from '../helpers/agent.js';
import { killNobodies, startAsNobody } from './hostile-user.js';

afterAll(killNobodies);

const identity = (cmdline: string) => ({ comm: 'sleep', exe: '/usr/bin/sleep', cmdline, argv0: cmdline.split(' ')[0]!, uid: 65534, user: 'nobody', gid: 65534, group: 'nogroup' });

describe('regular expressions that meet untrusted text run in linear time (RE2)', () => {
  it('a catastrophic-backtracking criteria still matches what it should', () => {
    // The crafted title itself is in the agent test below: with JavaScript's engine it never returns.
    const [c] = compileCriteria([{ name: 'hostile', include: [{ cmdline: '^(\\w+\\s?)+$' }], exclude: [] }]);
    expect(c!.matches(identity('aaaa! 120'))).toBe(false);
    expect(c!.matches(identity('aaaa bbbb'))).toBe(true);
  });

  it('globs with many stars answer on long names', () => {
    expect(globToRegExp('*a*a*b').test('a'.repeat(50))).toBe(false);
    expect(globToRegExp('systemd*').test('systemd-journald')).toBe(true);
    expect(globToRegExp('/usr/[sl]bin/*').test('/usr/sbin/nginx')).toBe(true);
    expect(globToRegExp('a.b').test('axb')).toBe(false);
    expect(globToRegExp('w3wp?').test('w3wp2')).toBe(true);
  });

  it('what RE2 rejects is an error at load that names the file, line and path', () => {
    for (const pattern of ['(a)\\1', '(?=worker)', '(?<!x)y']) {
      expect(regexError(pattern), pattern).toBeDefined();
      const result = parseConfigText(`criteria:\n  - name: c\n    include:\n      - cmdline: '${pattern}'\n`, 'agent.yaml');
      expect(result.ok, pattern).toBe(false);
      if (!result.ok) expect(result.errors[0]).toMatch(/^agent\.yaml:4: criteria\[0\]\.include\[0\]\.cmdline: expected an RE2 regular expression/);
    }
    const disk = parseConfigText("disk:\n  device_exclude: '(?!sda)'\n", 'agent.yaml');
    expect(disk.ok).toBe(false);
    const glob = parseConfigText("enforcement:\n  protected: ['[z-a]']\n", 'agent.yaml');
    expect(glob.ok).toBe(false);
    if (!glob.ok) expect(glob.errors[0]).toMatch(/^agent\.yaml:2: enforcement\.protected\[0\]: expected a glob/);
  });

  it('rule label matchers take Prometheus syntax: (?i) works, and what RE2 rejects is a PromqlError', () => {
    expect(compileRegex('(?i)NGINX', { anchored: true }).test('nginx')).toBe(true);
    expect(compileRegex('a.b', { anchored: true, dotAll: true }).test('a\nb')).toBe(true);
    expect(() => parsePromql('up{job=~"(?i)node"}')).not.toThrow();
    expect(() => parsePromql('up{job=~"(?=x)"}')).toThrow(PromqlError);
    expect(() => parsePromql('up{job!~"(a)\\\\1"}')).toThrow(/invalid regular expression in label matcher/);
  });
});

describe('a local user cannot hang the agent with a crafted command line', () => {
  it('keeps sampling and answering scrapes, and stops on SIGTERM', async () => {
    const config = writeConfig(
      ['sampling:', '  interval: 1s', '  queue_interval: 1s', 'criteria:', '  - name: hostile', '    include:', "      - cmdline: '^(\\w+\\s?)+$'"].join('\n') + '\n',
    );
    const agent = await startAgent([`--config.file=${config}`]);
    try {
      const started = Date.now();
      // As nobody, with a title that sends a backtracking engine down 2^40 paths.
      await startAsNobody(`${'a'.repeat(40)}!`, 'sleep', ['120']);
      // A matching title too, so the criteria is shown to still work.
      await startAsNobody('aaaa', 'sleep', ['121']);
      let seen = false;
      for (let i = 0; i < 20 && !seen; i++) {
        const res = await fetch(`${agent.url}/metrics`, { signal: AbortSignal.timeout(10_000) });
        expect(res.status).toBe(200);
        const series = parseExposition(await res.text());
        const last = series.find((s) => s.name === 'contention_last_sample_timestamp_seconds')!.value * 1000;
        const group = series.find((s) => s.name === 'contention_process_group_processes' && s.labels.group === 'hostile');
        seen = last > started + 1000 && group !== undefined && group.value >= 1;
        if (!seen) await new Promise((r) => setTimeout(r, 500));
      }
      expect(seen).toBe(true);
    } finally {
      const exited = Date.now();
      await stopProcess(agent.proc);
      // stopProcess sends SIGKILL after 5 s; an agent stuck in a regex needs it.
      expect(agent.proc.signalCode).not.toBe('SIGKILL');
      expect(Date.now() - exited).toBeLessThan(5_000);
    }
  });
});
