import { LineCounter, parseDocument, isNode } from 'yaml';
import type { z } from 'zod';
import type { Override } from '../cli/args.js';
import { CONFIG_FILE_MAX_BYTES, readBounded } from '../files/bounded-read.js';
import { configSchema, type Config } from './schema.js';

export type ConfigResult = { ok: true; config: Config } | { ok: false; errors: string[] };

/** The configuration the agent runs on when no file is given. */
export function defaultConfig(): Config {
  return configSchema.parse({});
}

/** Reads, parses and validates a YAML config file; every problem names the file, line and path. */
export function loadConfigFile(file: string, overrides: readonly Override[] = []): ConfigResult {
  const read = readText(file);
  return read.ok ? parseConfigText(read.text, file, overrides) : read;
}

/** A file's text, or an error naming the file and why it could not be read; never more than CONFIG_FILE_MAX_BYTES. */
export function readText(file: string): { ok: true; text: string } | { ok: false; errors: string[] } {
  try {
    return { ok: true, text: readBounded(file, CONFIG_FILE_MAX_BYTES).toString('utf8') };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).name;
    return { ok: false, errors: [`${file}: cannot read the file (${code}): ${(err as Error).message}`] };
  }
}

/** The config the agent runs on: a file (or the embedded defaults) with command-line flags on top. */
export function resolveConfig(file: string | undefined, overrides: readonly Override[]): ConfigResult {
  try {
    return file === undefined ? parseConfigText('', '(embedded defaults)', overrides) : loadConfigFile(file, overrides);
  } catch (err) {
    // Whatever a file holds, a reload keeps the running config: a failure here is the file's, reported as such.
    return { ok: false, errors: [`${file ?? '(embedded defaults)'}: cannot be loaded: ${(err as Error).message}`] };
  }
}

export function parseConfigText(text: string, file: string, overrides: readonly Override[] = []): ConfigResult {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
  if (doc.errors.length > 0) return { ok: false, errors: syntaxErrors(doc, file) };
  const js = toPlain(doc, file);
  if (!js.ok) return js;
  const raw: unknown = js.value ?? {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    return { ok: false, errors: [`${file}: expected a mapping of settings at the top level (got ${Array.isArray(raw) ? 'a list' : typeof raw})`] };
  }
  const flagged = new Map<string, string>();
  for (const { flag, path, value } of overrides) {
    setIn(raw as Record<string, unknown>, path, value);
    flagged.set(path.join('.'), flag);
  }
  const parsed = configSchema.safeParse(raw);
  if (parsed.success) return { ok: true, config: parsed.data };
  return {
    ok: false,
    errors: parsed.error.issues.flatMap((issue) => {
      const flag = flagged.get(issue.path.join('.'));
      if (flag) return [`${flag}: ${issue.message}`];
      return describeIssue(issue, file, (path) => lineOf(doc, lines, path));
    }),
  };
}

/**
 * Reads a YAML file of another kind (the web config, for one) and validates it against `schema`,
 * with errors in the same form as the agent's config: file, line, path and what was expected.
 */
export function loadYamlFile<S extends z.ZodType>(file: string, schema: S): { ok: true; value: z.output<S> } | { ok: false; errors: string[] } {
  const read = readText(file);
  if (!read.ok) return read;
  const text = read.text;
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
  if (doc.errors.length > 0) return { ok: false, errors: syntaxErrors(doc, file) };
  const js = toPlain(doc, file);
  if (!js.ok) return js;
  const parsed = schema.safeParse(js.value ?? {});
  if (parsed.success) return { ok: true, value: parsed.data };
  return { ok: false, errors: parsed.error.issues.flatMap((issue) => describeIssue(issue, file, (path) => lineOf(doc, lines, path))) };
}

/** The most alias expansions one file may make: more is an alias bomb (a few lines that expand to gigabytes). */
export const MAX_ALIAS_COUNT = 100;

/**
 * The document as plain values. The yaml library throws when aliases expand past the count
 * ("Excessive alias count"); that is a property of the file, so it is an error naming the file.
 */
function toPlain(doc: ReturnType<typeof parseDocument>, file: string): { ok: true; value: unknown } | { ok: false; errors: string[] } {
  try {
    return { ok: true, value: doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) };
  } catch (err) {
    const reason = /alias/i.test((err as Error).message) ? `more than ${MAX_ALIAS_COUNT} alias expansions (an alias bomb?)` : (err as Error).message.split('\n')[0];
    return { ok: false, errors: [`${file}: YAML cannot be read: ${reason}`] };
  }
}

function syntaxErrors(doc: ReturnType<typeof parseDocument>, file: string): string[] {
  return doc.errors.map((e) => {
    const pos = e.linePos?.[0];
    const where = pos ? `${file}:${pos.line}:${pos.col}` : file;
    return `${where}: YAML syntax error: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`;
  });
}

function setIn(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== 'object' || next === null || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

function lineOf(doc: ReturnType<typeof parseDocument>, lines: LineCounter, path: PropertyKey[]): number | undefined {
  for (let len = path.length; len >= 0; len--) {
    const node = len === 0 ? doc.contents : doc.getIn(path.slice(0, len) as (string | number)[], true);
    if (isNode(node) && node.range) return lines.linePos(node.range[0]).line;
  }
  return undefined;
}

function describeIssue(issue: z.core.$ZodIssue, file: string, line: (path: PropertyKey[]) => number | undefined): string[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => {
      const path = [...issue.path, key];
      return `${locate(file, line(path))}: ${formatPath(path)}: unknown setting (not one of the keys this section takes)`;
    });
  }
  const path = issue.path;
  const shown = formatPath(path) || '(top level)';
  return [`${locate(file, line(path))}: ${shown}: ${issue.message}`];
}

function locate(file: string, line: number | undefined): string {
  return line === undefined ? file : `${file}:${line}`;
}

export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((out, key) => {
    if (typeof key === 'number') return `${out}[${key}]`;
    return out === '' ? String(key) : `${out}.${String(key)}`;
  }, '');
}
