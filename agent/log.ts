import { pino, type Logger } from 'pino';
import type { Stage } from './metrics/sample.js';

export type LogFormat = 'logfmt' | 'json';

let writeFailures = 0;
const guarded = new WeakSet<NodeJS.WritableStream>();

/** Log lines the stream refused since the agent started. */
export function logWriteFailures(): number {
  return writeFailures;
}

/**
 * Makes a log stream's failures counted instead of fatal. A pipe whose reader went away (`agent | head -1`,
 * a log shipper restarting, a Windows service without a console) answers EPIPE; Node raises that as an
 * 'error' event, and an 'error' without a listener ends the process. Lines written after that are dropped.
 */
function guard(stream: NodeJS.WritableStream): NodeJS.WritableStream {
  if (guarded.has(stream)) return stream;
  guarded.add(stream);
  stream.on('error', () => {
    writeFailures++;
  });
  return stream;
}

/** Writes one line, or counts it when the stream is gone; never throws. */
function writeLine(stream: NodeJS.WritableStream, line: string): void {
  const s = stream as NodeJS.WritableStream & { destroyed?: boolean; writableEnded?: boolean };
  if (s.destroyed || s.writableEnded) {
    writeFailures++;
    return;
  }
  try {
    stream.write(line);
  } catch {
    writeFailures++;
  }
}

/** Structured logs on stderr, as JSON or as logfmt (the exporter family's default). */
export function createLogger(level: string, format: LogFormat, destination: NodeJS.WritableStream = process.stderr): Logger {
  const options = {
    level,
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  const out = guard(destination);
  // Standard output too: the commands print there, and a closed stdout must not end the agent either.
  if (destination !== process.stdout) guard(process.stdout);
  const write = format === 'json' ? (line: string) => writeLine(out, line) : (line: string) => writeLine(out, toLogfmt(line));
  return pino(options, { write });
}

/** The agent's log health as a series of each sample. */
export function logMetricsStage(): Stage {
  return {
    name: 'log',
    run(_sample, sink) {
      sink.set('contention_log_write_failures_total', {}, writeFailures);
    },
  };
}

/** One pino JSON line as one logfmt line: ts, level and msg first, then the rest in order. */
export function toLogfmt(jsonLine: string): string {
  const record = JSON.parse(jsonLine) as Record<string, unknown>;
  const { time, level, msg, ...rest } = record;
  const pairs: string[] = [`ts=${String(time)}`, `level=${String(level)}`];
  if (msg !== undefined) pairs.push(`msg=${quote(String(msg))}`);
  for (const [key, value] of Object.entries(rest)) {
    pairs.push(`${key}=${quote(typeof value === 'string' ? value : JSON.stringify(value))}`);
  }
  return `${pairs.join(' ')}\n`;
}

function quote(value: string): string {
  return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
}
