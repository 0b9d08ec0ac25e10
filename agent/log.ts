import { pino, type Logger } from 'pino';

export type LogFormat = 'logfmt' | 'json';

/** Structured logs on stderr, as JSON or as logfmt (the exporter family's default). */
export function createLogger(level: string, format: LogFormat, destination: NodeJS.WritableStream = process.stderr): Logger {
  const options = {
    level,
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  if (format === 'json') return pino(options, destination);
  return pino(options, { write: (line: string) => void destination.write(toLogfmt(line)) });
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
