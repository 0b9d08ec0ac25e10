import { COLLECTOR_NAMES } from '../collectors/names.js';

/** A command-line setting that overrides one config path. */
export interface Override {
  readonly flag: string;
  readonly path: readonly string[];
  readonly value: unknown;
}

export interface ParsedArgs {
  readonly command: string;
  readonly positionals: readonly string[];
  readonly configFile?: string;
  readonly overrides: readonly Override[];
  readonly json: boolean;
  /** CPUs of the host an analyzed log came from, when the log does not say. */
  readonly cpus?: number;
  /** snapshot --from: a running agent's URL to ask instead of sampling here. */
  readonly from?: string;
  /** analyze: list every series judged healthy, not just how many. */
  readonly verbose: boolean;
  /** analyze: a Prometheus server to query instead of a file, with the selector and how far back. */
  readonly prometheus?: string;
  readonly match?: string;
  readonly since?: string;
  readonly step?: string;
  readonly help: boolean;
  readonly version: boolean;
}

/** Flags that set a config value, in the exporter family's spelling. */
const VALUE_FLAGS: Readonly<Record<string, readonly string[]>> = {
  'web.listen-address': ['web', 'listen_address'],
  'web.telemetry-path': ['web', 'telemetry_path'],
  'web.config.file': ['web', 'config_file'],
  'log.level': ['log', 'level'],
  'log.format': ['log', 'format'],
  'path.procfs': ['paths', 'procfs'],
  'path.sysfs': ['paths', 'sysfs'],
  'path.state-dir': ['paths', 'state_dir'],
  'evidence.dir': ['enforcement', 'evidence_dir'],
};

export const COMMANDS = ['run', 'check-config', 'snapshot', 'analyze', 'doctor', 'capture'] as const;

export class UsageError extends Error {}

/** Parses argv (without node and script). Accepts `--flag=value` and `--flag value`. */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const positionals: string[] = [];
  const overrides: Override[] = [];
  let configFile: string | undefined;
  let json = false;
  let cpus: number | undefined;
  let from: string | undefined;
  let verbose = false;
  let prometheus: string | undefined;
  let match: string | undefined;
  let since: string | undefined;
  let step: string | undefined;
  let help = false;
  let version = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-h') {
      help = true;
      continue;
    }
    if (!arg.startsWith('--')) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const inline = eq === -1 ? undefined : arg.slice(eq + 1);
    const takeValue = (): string => {
      if (inline !== undefined) return inline;
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) throw new UsageError(`--${name} needs a value`);
      i++;
      return next;
    };
    const collector = /^(no-)?collector\.(.+)$/.exec(name);
    if (collector) {
      const which = collector[2]!;
      if (!(COLLECTOR_NAMES as readonly string[]).includes(which)) {
        throw new UsageError(`--${name}: unknown collector "${which}" (known: ${COLLECTOR_NAMES.join(', ')})`);
      }
      if (inline !== undefined) throw new UsageError(`--${name} takes no value`);
      overrides.push({ flag: `--${name}`, path: ['collectors', which], value: !collector[1] });
    } else if (name === 'config.file') {
      configFile = takeValue();
    } else if (name in VALUE_FLAGS) {
      overrides.push({ flag: `--${name}`, path: VALUE_FLAGS[name]!, value: takeValue() });
    } else if (name === 'json') {
      json = true;
    } else if (name === 'cpus') {
      cpus = Number(takeValue());
      if (!Number.isInteger(cpus) || cpus < 1) throw new UsageError('--cpus needs a whole number of CPUs');
    } else if (name === 'from') {
      from = takeValue();
    } else if (name === 'verbose') {
      verbose = true;
    } else if (name === 'prometheus') {
      prometheus = takeValue();
    } else if (name === 'match') {
      match = takeValue();
    } else if (name === 'since') {
      since = takeValue();
    } else if (name === 'step') {
      step = takeValue();
    } else if (name === 'help') {
      help = true;
    } else if (name === 'version') {
      version = true;
    } else {
      throw new UsageError(`unknown flag --${name} (see --help)`);
    }
  }
  const first = positionals[0];
  const command = first !== undefined && (COMMANDS as readonly string[]).includes(first) ? positionals.shift()! : 'run';
  if (from !== undefined && command !== 'snapshot') throw new UsageError('--from is a flag of snapshot');
  return { command, positionals, configFile, overrides, json, cpus, from, verbose, prometheus, match, since, step, help, version };
}

export const USAGE = `Usage: contention-agent [command] [flags]

Commands:
  run (default)          sample this host, serve metrics and the status page
  check-config FILE      validate a config file; exit 0 when valid, 1 with every error when not
  snapshot [--json] [--from=URL]
                         sample now (or ask the agent at URL) and print what is saturated or near
                         a limit, worst first, and who causes it; exit 0 OK, 1 warning, 2 critical,
                         3 unknown (the Nagios plugin convention)
  analyze FILE [--json] [--cpus=N] [--verbose]
  analyze --prometheus=URL [--match=SELECTOR] [--since=24h]
                         find leaks, exhaustion and saturation in a PerfMon CSV, a Prometheus
                         query_range export, or a Prometheus server's history; exit 0 nothing
                         found, 1 findings, 2 unreadable input
  doctor [--json]        say whether this host can take the dumps an investigation needs, with the
                         fix for each that it cannot; exit 0 all required ready, 1 otherwise
  capture PID [--json]   dump a running process (gcore on Linux, MiniDumpWriteDump on Windows) and a
                         host snapshot into a new evidence directory; the process keeps running

Flags:
  --config.file=PATH              YAML config (default: the embedded defaults)
  --web.listen-address=:9947      address to serve on
  --web.telemetry-path=/metrics   path of the metrics exposition
  --web.config.file=PATH          TLS and basic auth (exporter-toolkit web config format)
  --collector.NAME                enable a collector
  --no-collector.NAME             disable a collector
                                  (${COLLECTOR_NAMES.join(', ')})
  --log.level=info                debug, info, warn or error
  --log.format=logfmt             logfmt or json
  --path.procfs=/proc             procfs mount point
  --path.sysfs=/sys               sysfs mount point
  --path.state-dir=DIR            where the history is kept across restarts
                                  (/var/lib/contention-agent; %ProgramData%\\contention-agent)
  --evidence.dir=PATH             where evidence and dumps go (enforcement.evidence_dir)
  --json                          machine-readable output (snapshot, analyze, doctor, capture)
  --from=URL                      snapshot: ask the running agent at URL (its history, leaks and alerts)
  --cpus=N                        CPUs of the logged host, when the log has no Processor counters
  --verbose                       analyze: list every series judged healthy
  --prometheus=URL                analyze: query this Prometheus (query_range) instead of a file
  --match=SELECTOR                analyze: series to fetch (default {__name__=~"contention_.+"})
  --since=24h                     analyze: how far back to fetch
  --step=15s                      analyze: resolution to fetch at (the scrape interval)
  -h, --help                      this text
  --version                       version, source revision and build date
`;
