import { goE, goF, goG } from './go-format.js';

/**
 * The part of Prometheus's alert templates (Go text/template) the shipped rules use: `{{ $value }}`,
 * `{{ $labels.name }}`, piped through humanize1024, humanizePercentage, humanizeDuration or
 * `printf "%.1f"`. A template is compiled once, when the rule file loads; anything else in an action
 * is refused then, naming it.
 */

export class TemplateError extends Error {
  constructor(message: string, readonly construct: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

export interface TemplateData {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export type Template = (data: TemplateData) => string;

type Operand = { kind: 'value' } | { kind: 'label'; name: string };
type Filter = { kind: 'fn'; name: keyof typeof FUNCTIONS } | { kind: 'printf'; format: string };

const FUNCTIONS = {
  humanize1024,
  humanizePercentage: (v: number) => `${goG(v * 100, 4)}%`,
  humanizeDuration,
};

/** Compiles a template; throws TemplateError naming the first construct outside the subset. */
export function compileTemplate(text: string): Template {
  const parts: Array<string | ((d: TemplateData) => string)> = [];
  let at = 0;
  while (at < text.length) {
    const open = text.indexOf('{{', at);
    if (open === -1) {
      parts.push(text.slice(at));
      break;
    }
    parts.push(text.slice(at, open));
    const close = text.indexOf('}}', open + 2);
    if (close === -1) throw new TemplateError(`unclosed action at character ${open + 1}`, '{{');
    parts.push(compileAction(text.slice(open + 2, close)));
    at = close + 2;
  }
  return (data) => parts.map((p) => (typeof p === 'string' ? p : p(data))).join('');
}

function compileAction(body: string): (d: TemplateData) => string {
  const written = `{{${body}}}`;
  if (body.startsWith('-') || body.endsWith('-')) throw new TemplateError(`unsupported template construct: whitespace trimming in ${written}`, written);
  const stages = splitPipeline(body).map((s) => s.trim());
  const operand = parseOperand(stages[0]!, written);
  const filters = stages.slice(1).map((s) => parseFilter(s, written));
  return (d) => {
    let v: string | number = operand.kind === 'value' ? d.value : (d.labels[operand.name] ?? '');
    for (const f of filters) {
      if (typeof v !== 'number') v = Number(v);
      v = f.kind === 'printf' ? printf(f.format, v) : FUNCTIONS[f.name](v);
    }
    return typeof v === 'number' ? goG(v, -1) : v;
  };
}

/** Splits on `|` outside double-quoted strings. */
function splitPipeline(body: string): string[] {
  const out: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === '"' && body[i - 1] !== '\\') quoted = !quoted;
    if (c === '|' && !quoted) {
      out.push(current);
      current = '';
    } else current += c;
  }
  out.push(current);
  return out;
}

function parseOperand(s: string, written: string): Operand {
  if (s === '$value' || s === '.Value') return { kind: 'value' };
  const label = /^(?:\$labels|\.Labels)\.([a-zA-Z_][a-zA-Z0-9_]*)$/.exec(s);
  if (label) return { kind: 'label', name: label[1]! };
  throw new TemplateError(`unsupported template construct ${JSON.stringify(s)} in ${written}`, s);
}

function parseFilter(s: string, written: string): Filter {
  if (s in FUNCTIONS) return { kind: 'fn', name: s as keyof typeof FUNCTIONS };
  const pf = /^printf\s+"((?:[^"\\]|\\.)*)"$/.exec(s);
  if (pf) {
    const format = JSON.parse(`"${pf[1]}"`) as string;
    const verbs = [...format.matchAll(/%(%|(?:\.(\d+))?([fge]))/g)];
    const stripped = format.replace(/%(%|(?:\.\d+)?[fge])/g, '');
    if (stripped.includes('%') || verbs.filter((v) => v[1] !== '%').length !== 1) {
      throw new TemplateError(`unsupported printf format ${JSON.stringify(format)} in ${written}: one %f, %g or %e verb is supported`, s);
    }
    return { kind: 'printf', format };
  }
  const fn = s.split(/\s+/)[0]!;
  throw new TemplateError(`unsupported template function ${JSON.stringify(fn)} in ${written}`, fn);
}

function printf(format: string, v: number): string {
  return format.replace(/%(%|(?:\.(\d+))?([fge]))/g, (_m, all: string, prec: string | undefined, verb: string | undefined) => {
    if (all === '%') return '%';
    const p = prec === undefined ? 6 : Number(prec);
    if (verb === 'f') return goF(v, p);
    if (verb === 'e') return goE(v, p);
    return goG(v, prec === undefined ? -1 : p);
  });
}

/** Binary prefixes (ki, Mi, Gi...: Prometheus writes kibi in lower case) with four significant digits, as its humanize1024. */
export function humanize1024(v: number): string {
  if (Math.abs(v) <= 1 || !Number.isFinite(v)) return goG(v, 4);
  let prefix = '';
  for (const p of ['ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei', 'Zi', 'Yi']) {
    if (Math.abs(v) < 1024) break;
    prefix = p;
    v /= 1024;
  }
  return `${goG(v, 4)}${prefix}`;
}

/** Days, hours, minutes and seconds, as Prometheus's humanizeDuration. */
export function humanizeDuration(v: number): string {
  if (!Number.isFinite(v)) return goG(v, 4);
  if (v === 0) return `${goG(v, 4)}s`;
  if (Math.abs(v) >= 1) {
    const sign = v < 0 ? '-' : '';
    v = Math.abs(v);
    // Go's int64 conversion: beyond its range amd64 yields the smallest int64, and the parts turn negative.
    const duration = v >= 2 ** 63 ? -(2n ** 63n) : BigInt(Math.trunc(v));
    const seconds = duration % 60n;
    const minutes = (duration / 60n) % 60n;
    const hours = (duration / 3600n) % 24n;
    const days = duration / 86400n;
    if (days !== 0n) return `${sign}${days}d ${hours}h ${minutes}m ${seconds}s`;
    if (hours !== 0n) return `${sign}${hours}h ${minutes}m ${seconds}s`;
    if (minutes !== 0n) return `${sign}${minutes}m ${seconds}s`;
    return `${sign}${goG(v, 4)}s`;
  }
  let prefix = '';
  for (const p of ['m', 'u', 'n', 'p', 'f', 'a', 'z', 'y']) {
    if (Math.abs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return `${goG(v, 4)}${prefix}s`;
}
