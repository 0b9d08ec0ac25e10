import { readFileSync } from 'node:fs';
import { SaxesParser } from 'saxes';
import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../agent/cli/args.js';
import { parseConfigText } from '../../agent/config/load.js';
import { EVENT_SOURCE } from '../../agent/platform/windows/event-log.js';

const read = (name: string) => readFileSync(new URL(`../../deploy/windows/${name}`, import.meta.url), 'utf8');

interface Element {
  readonly name: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly children: Element[];
  text: string;
}

/** A strict XML 1.0 parse (saxes throws on anything not well-formed) into a small element tree. */
function parseXml(xml: string): Element {
  const parser = new SaxesParser();
  const stack: Element[] = [];
  let root: Element | undefined;
  parser.on('opentag', (tag) => {
    const el: Element = { name: tag.name, attributes: tag.attributes as Record<string, string>, children: [], text: '' };
    stack.at(-1)?.children.push(el);
    root ??= el;
    stack.push(el);
  });
  parser.on('text', (t) => {
    const top = stack.at(-1);
    if (top) top.text += t;
  });
  parser.on('closetag', () => void stack.pop());
  parser.write(xml).close();
  if (!root) throw new Error('no root element');
  return root;
}

/** Splits a command line as the Microsoft C runtime does for simple quoting (no escaped quotes here). */
function splitCommandLine(line: string): string[] {
  const args: string[] = [];
  let current = '';
  let quoted = false;
  let any = false;
  for (const c of line) {
    if (c === '"') {
      quoted = !quoted;
      any = true;
    } else if (c === ' ' && !quoted) {
      if (any) args.push(current);
      current = '';
      any = false;
    } else {
      current += c;
      any = true;
    }
  }
  if (any) args.push(current);
  return args;
}

describe('the WinSW service definition', () => {
  const service = parseXml(read('contention-agent.xml'));
  const one = (name: string) => {
    const found = service.children.filter((c) => c.name === name);
    expect(found, name).toHaveLength(1);
    return found[0]!;
  };

  it('is well-formed XML with a <service> root', () => {
    expect(service.name).toBe('service');
    expect(() => parseXml('<service><arguments>a & b</arguments></service>')).toThrow(); // the parser is strict
  });

  it('names the service as the installer and the event log do', () => {
    expect(one('id').text).toBe('contention-agent');
    expect(one('id').text).toBe(EVENT_SOURCE);
    expect(one('name').text).toBe('contention-agent');
  });

  it('runs the node.exe copied beside the wrapper on the built agent with the ProgramData config, with the Linux launcher\'s Node flags', () => {
    expect(one('executable').text).toBe('%BASE%\\node.exe');
    const argv = splitCommandLine(one('arguments').text);
    const script = argv.findIndex((a) => a.endsWith('cli.js'));
    expect(argv[script]).toBe('%BASE%\\dist\\agent\\cli.js');
    const launcher = readFileSync(new URL('../../deploy/package/contention-agent.sh', import.meta.url), 'utf8');
    // The first exec line is the daemon's (run, the default command, which is what the service runs).
    const linuxFlags = /^\s*exec "\$here\/node\/bin\/node" (.*?)\s*"\$here\/dist/m.exec(launcher)![1]!.split(' ').filter(Boolean);
    expect(argv.slice(0, script)).toEqual(linuxFlags);
    expect(linuxFlags).toEqual(expect.arrayContaining(['--max-semi-space-size=1', '--no-opt', '--single-threaded-gc', '--expose-gc']));
    const parsed = parseArgs(argv.slice(script + 1));
    expect(parsed.command).toBe('run');
    expect(parsed.configFile).toBe('%ProgramData%\\contention-agent\\config.yaml');
    expect(parsed.positionals).toEqual([]);
    expect(one('workingdirectory').text).toBe('%ProgramData%\\contention-agent');
  });

  it('starts with Windows and restarts after a failure, backing off', () => {
    expect(one('startmode').text).toBe('Automatic');
    const failures = service.children.filter((c) => c.name === 'onfailure');
    expect(failures.length).toBeGreaterThanOrEqual(1);
    for (const f of failures) expect(f.attributes.action).toBe('restart');
    const seconds = failures.map((f) => {
      const m = /^(\d+) (sec|min)$/.exec(f.attributes.delay ?? '');
      expect(m, f.attributes.delay).not.toBeNull();
      return Number(m![1]) * (m![2] === 'min' ? 60 : 1);
    });
    expect([...seconds].sort((a, b) => a - b)).toEqual(seconds);
    expect(one('resetfailure').text).toBe('1 hour');
    expect(one('stoptimeout').text).toMatch(/^\d+ sec$/);
  });

  it('keeps bounded logs under ProgramData', () => {
    expect(one('logpath').text).toBe('%ProgramData%\\contention-agent\\logs');
    const log = one('log');
    expect(log.attributes.mode).toBe('roll-by-size');
    const size = log.children.find((c) => c.name === 'sizeThreshold');
    const keep = log.children.find((c) => c.name === 'keepFiles');
    expect(Number(size?.text)).toBeGreaterThan(0);
    expect(Number(keep?.text)).toBeGreaterThan(0);
  });
});

describe('the install and uninstall scripts', () => {
  const install = read('install.ps1');
  const uninstall = read('uninstall.ps1');

  it('install under the same service id and event source the XML and the agent use', () => {
    for (const script of [install, uninstall]) {
      expect(script).toContain(`$ServiceId = '${EVENT_SOURCE}'`);
      expect(script).toContain(`$EventSource = '${EVENT_SOURCE}'`);
      expect(script).toContain("HKLM:\\SYSTEM\\CurrentControlSet\\Services\\EventLog\\Application\\$EventSource");
    }
    expect(install).toContain('"$ServiceId.xml"');
  });

  it('install offline from the release folder: nothing is downloaded', () => {
    expect(install).toContain('$PackageDir = $PSScriptRoot');
    expect(install).not.toMatch(/Invoke-WebRequest|Invoke-RestMethod|DownloadFile|Start-BitsTransfer/);
    for (const item of ['node.exe', '"$ServiceId.exe"', '"$ServiceId.xml"', "'dist'", "'node_modules'", "'agent'", "'rules'"]) expect(install, item).toContain(item);
  });

  it('open the metrics port for the agent only, and remove the rule on uninstall', () => {
    expect(install).toMatch(/New-NetFirewallRule -Name \$FirewallRule .*-Direction Inbound -Action Allow -Protocol TCP -LocalPort \$Port -Program \(Join-Path \$InstallDir 'node\.exe'\)/s);
    expect(install).toContain('[int] $Port = 9947');
    expect(uninstall).toContain('Remove-NetFirewallRule -Name $FirewallRule');
    for (const script of [install, uninstall]) expect(script).toContain("$FirewallRule = 'contention-agent'");
  });

  it('set the delayed start WinSW 1.17 has no element for', () => {
    expect(install).toContain('& sc.exe config $ServiceId start= delayed-auto');
    expect(read('contention-agent.xml')).not.toContain('<delayedAutoStart>');
  });

  it('install the default config the agent accepts under ProgramData, keeping an existing one', () => {
    const result = parseConfigText(read('config.yaml'), 'config.yaml');
    expect(result.ok, result.ok ? '' : result.errors.join('\n')).toBe(true);
    expect(install).toContain("$ConfigPath = Join-Path $DataDir 'config.yaml'");
    expect(install).toMatch(/if \(-not \(Test-Path -LiteralPath \$ConfigPath\)\)/);
  });

  it('require an elevated shell', () => {
    for (const script of [install, uninstall]) expect(script.startsWith('#Requires -RunAsAdministrator')).toBe(true);
  });
});
