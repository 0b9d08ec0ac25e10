#!/usr/bin/env node
import { parseArgs, USAGE, UsageError } from './cli/args.js';
import { analyze } from './commands/analyze.js';
import { capture } from './commands/capture.js';
import { checkConfig } from './commands/check-config.js';
import { doctor } from './commands/doctor.js';
import { run } from './commands/run.js';
import { snapshot } from './commands/snapshot.js';
import { resolveConfig } from './config/load.js';
import { createLogger } from './log.js';
import { AGENT_VERSION } from './version.js';

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
    process.stdout.write(`contention-agent ${AGENT_VERSION} (node ${process.version})\n`);
    return 0;
  }
  if (args.command === 'check-config') return checkConfig(args.positionals[0] ?? args.configFile);
  if (args.command === 'analyze') return analyze(args.positionals[0], { json: args.json, cpus: args.cpus });

  const resolved = resolveConfig(args.configFile, args.overrides);
  if (!resolved.ok) {
    for (const error of resolved.errors) process.stderr.write(`${error}\n`);
    return 1;
  }
  const { config } = resolved;
  const log = createLogger(config.log.level, config.log.format);
  if (args.command === 'snapshot') return snapshot(config, log, args.json);
  if (args.command === 'doctor') return doctor(config, args.json);
  if (args.command === 'capture') return capture(config, log, args.positionals[0], args.json);
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument "${args.positionals[0]}" (see --help)`);
  return run(config, log, args.configFile, args.overrides);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: Error) => {
    process.stderr.write(err instanceof UsageError ? `contention-agent: ${err.message}\n` : `contention-agent: ${err.stack ?? err.message}\n`);
    process.exitCode = 2;
  },
);
