#!/usr/bin/env -S node --max-semi-space-size=1
import { parseArgs, USAGE, UsageError } from './cli/args.js';
import { analyze } from './commands/analyze.js';
import { capture } from './commands/capture.js';
import { checkConfig } from './commands/check-config.js';
import { doctor } from './commands/doctor.js';
import { run, StartupError } from './commands/run.js';
import { snapshot, snapshotFrom } from './commands/snapshot.js';
import { resolveConfig } from './config/load.js';
import { createLogger } from './log.js';
import { versionText } from './version.js';

// A log line that cannot be written must not end the agent: a closed pipe or console (a service
// wrapper gone, a Wine pipe answering EPIPE) would otherwise be an unhandled 'error' event.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);

async function main(argv: readonly string[]): Promise<number> {
  const args = parseArgs(argv);
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (args.version) {
    process.stdout.write(versionText());
    return 0;
  }
  if (args.command === 'check-config') return checkConfig(args.positionals[0] ?? args.configFile);
  if (args.command === 'analyze') {
    return analyze(args.positionals[0], { json: args.json, cpus: args.cpus, verbose: args.verbose, prometheus: args.prometheus, match: args.match, since: args.since, step: args.step });
  }
  if (args.command === 'snapshot' && args.from !== undefined) return snapshotFrom(args.from, args.json);

  const resolved = resolveConfig(args.configFile, args.overrides);
  if (!resolved.ok) {
    for (const error of resolved.errors) process.stderr.write(`${error}\n`);
    // snapshot runs as a monitoring check: a check that cannot run is UNKNOWN (3), not a warning.
    return args.command === 'snapshot' ? 3 : 1;
  }
  const { config } = resolved;
  const log = createLogger(config.log.level, config.log.format);
  if (args.command === 'snapshot') return snapshot(config, log, args.json);
  if (args.command === 'doctor') return doctor(config, args.json);
  if (args.command === 'capture') return capture(config, log, args.positionals[0], args.json);
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument "${args.positionals[0]}" (see --help)`);
  return run(config, log, args.configFile, args.overrides);
}

/**
 * Ends the process with `code`. A failed start must end it even when something it began (a timer, a
 * socket) would keep Node alive: a half-started agent that serves nothing looks healthy to a service
 * manager. A finished command ends too: a native call that never returned (a MiniDumpWriteDump stuck
 * in dbghelp) holds a worker thread that would keep Node alive after a clean shutdown. Exiting on its
 * own first lets buffered output (a pipe on Windows) drain.
 */
function exitWith(code: number, message?: string): void {
  if (message !== undefined) process.stderr.write(message);
  process.exitCode = code;
  setTimeout(() => process.exit(code), 500).unref();
}

main(process.argv.slice(2)).then(
  (code) => exitWith(code),
  (err: Error) => {
    // Usage and start-up errors are one line that says what to fix; anything else is a bug, so its stack follows.
    const expected = err instanceof UsageError || err instanceof StartupError;
    // snapshot is run by monitoring systems: a check that cannot run is UNKNOWN (3).
    const code = process.argv.slice(2).includes('snapshot') ? 3 : 2;
    exitWith(code, expected ? `contention-agent: ${err.message}\n` : `contention-agent: ${err.message}\n${err.stack ?? ''}\n`);
  },
);
