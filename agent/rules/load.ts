import { readdirSync } from 'node:fs';
import { CONFIG_FILE_MAX_BYTES, readBounded } from '../files/bounded-read.js';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import type { Expr } from '../promql/ast.js';
import { parsePromql, PromqlError } from '../promql/parse.js';
import { globToRegExp } from '../process/glob.js';
import { compileTemplate, TemplateError, type Template } from './template.js';

export interface AlertRule {
  readonly kind: 'alert';
  readonly name: string;
  readonly expr: Expr;
  readonly exprText: string;
  /** How long the condition must hold before the alert fires, in ms. */
  readonly forMs: number;
  readonly labels: Readonly<Record<string, Template>>;
  readonly annotations: Readonly<Record<string, Template>>;
}

export interface RecordingRule {
  readonly kind: 'record';
  readonly name: string;
  readonly expr: Expr;
  readonly exprText: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface RuleGroup {
  readonly file: string;
  readonly name: string;
  readonly rules: ReadonlyArray<AlertRule | RecordingRule>;
}

export type RulesResult = { ok: true; groups: RuleGroup[]; files: string[] } | { ok: false; errors: string[] };

/** Where the shipped rules sit: beside the sources in a checkout, one level further from the build output. */
export function shippedRulesDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const rel of ['../../rules', '../../../rules']) {
    const dir = resolve(here, rel);
    try {
      if (readdirSync(dir).some((f) => f.endsWith('.yml'))) return dir;
    } catch {
      // not at this depth
    }
  }
  return resolve(here, '../../rules');
}

/** The rule files a list of globs names (a `*`, `?` or `[...]` in the file name only), relative to `baseDir`; the shipped rules when the list is empty. */
export function expandRuleFiles(globs: readonly string[], baseDir: string): { files: string[]; errors: string[] } {
  if (globs.length === 0) return { files: [join(shippedRulesDir(), 'contention.yml')], errors: [] };
  const files: string[] = [];
  const errors: string[] = [];
  for (const glob of globs) {
    const path = isAbsolute(glob) ? glob : resolve(baseDir, glob);
    const dir = dirname(path);
    const pattern = basename(path);
    if (!/[*?[]/.test(pattern)) {
      files.push(path);
      continue;
    }
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch (err) {
      errors.push(`rules.files: ${glob}: cannot read directory ${dir}: ${(err as Error).message}`);
      continue;
    }
    const re = globToRegExp(pattern);
    const found = names.filter((n) => re.test(n)).sort();
    if (found.length === 0) errors.push(`rules.files: ${glob}: matches no file`);
    files.push(...found.map((n) => join(dir, n)));
  }
  return { files: [...new Set(files)], errors };
}

/** Loads and compiles rule files; every problem names the file, the group, the rule and the construct. */
export function loadRuleFiles(files: readonly string[]): RulesResult {
  const groups: RuleGroup[] = [];
  const errors: string[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readBounded(file, CONFIG_FILE_MAX_BYTES).toString('utf8');
    } catch (err) {
      errors.push(`${file}: cannot read the rule file: ${(err as Error).message}`);
      continue;
    }
    const result = parseRuleText(text, file);
    if (result.ok) groups.push(...result.groups);
    else errors.push(...result.errors);
  }
  return errors.length > 0 ? { ok: false, errors } : { ok: true, groups, files: [...files] };
}

const GROUP_KEYS = new Set(['name', 'rules']);
const RULE_KEYS = new Set(['alert', 'record', 'expr', 'for', 'labels', 'annotations']);

/** Parses the text of one rule file in Prometheus's format. */
export function parseRuleText(text: string, file: string): RulesResult {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    return { ok: false, errors: [`${file}: YAML syntax error: ${(err as Error).message.split('\n')[0]}`] };
  }
  const top = doc as { groups?: unknown } | null;
  if (!top || typeof top !== 'object' || !Array.isArray(top.groups)) return { ok: false, errors: [`${file}: expected a mapping with a list of groups`] };
  const errors: string[] = [];
  const groups: RuleGroup[] = [];
  top.groups.forEach((raw: unknown, gi: number) => {
    const g = (raw ?? {}) as Record<string, unknown>;
    const gname = typeof g.name === 'string' && g.name !== '' ? g.name : undefined;
    const gwhere = `${file}: group ${gname ?? `#${gi + 1}`}`;
    if (!gname) errors.push(`${gwhere}: expected a name`);
    for (const k of Object.keys(g)) if (!GROUP_KEYS.has(k)) errors.push(`${gwhere}: unsupported construct: group setting ${k} (local evaluation runs every group at each sample)`);
    if (!Array.isArray(g.rules)) {
      errors.push(`${gwhere}: expected a list of rules`);
      return;
    }
    const rules: Array<AlertRule | RecordingRule> = [];
    g.rules.forEach((rawRule: unknown, ri: number) => {
      const r = (rawRule ?? {}) as Record<string, unknown>;
      const rname = typeof r.alert === 'string' ? r.alert : typeof r.record === 'string' ? r.record : undefined;
      const where = `${gwhere}: ${typeof r.alert === 'string' ? 'alert' : 'record'} ${rname ?? `#${ri + 1}`}`;
      const fail = (message: string): void => void errors.push(`${where}: ${message}`);
      for (const k of Object.keys(r)) if (!RULE_KEYS.has(k)) fail(`unsupported construct: rule setting ${k}`);
      if (!rname) return fail('expected alert or record with a name');
      if ((typeof r.alert === 'string') === (typeof r.record === 'string')) return fail('expected exactly one of alert and record');
      if (typeof r.expr !== 'string' && typeof r.expr !== 'number') return fail('expected expr');
      const exprText = String(r.expr);
      let expr: Expr;
      try {
        expr = parsePromql(exprText);
      } catch (err) {
        if (err instanceof PromqlError) return fail(err.message);
        throw err;
      }
      const labels = stringMap(r.labels, 'labels', fail);
      if (typeof r.record === 'string') {
        if (r.for !== undefined || r.annotations !== undefined) return fail('a recording rule takes no for or annotations');
        if (Object.values(labels).some((v) => v.includes('{{'))) return fail('unsupported construct: template in a recording rule label');
        rules.push({ kind: 'record', name: rname, expr, exprText, labels });
        return;
      }
      const forMs = r.for === undefined ? 0 : promDurationMs(r.for);
      if (forMs === undefined) return fail(`expected for as a Prometheus duration like "5m" (got ${JSON.stringify(r.for)})`);
      const annotations = stringMap(r.annotations, 'annotations', fail);
      const compile = (kind: string, map: Record<string, string>): Record<string, Template> => {
        const out: Record<string, Template> = {};
        for (const [k, v] of Object.entries(map)) {
          try {
            out[k] = compileTemplate(v);
          } catch (err) {
            if (!(err instanceof TemplateError)) throw err;
            fail(`${kind}.${k}: ${err.message}`);
          }
        }
        return out;
      };
      rules.push({ kind: 'alert', name: rname, expr, exprText, forMs, labels: compile('labels', labels), annotations: compile('annotations', annotations) });
    });
    // As Prometheus: group names are unique within a file.
    if (gname && groups.some((other) => other.name === gname)) errors.push(`${gwhere}: a group of this name is already in the file`);
    if (gname) groups.push({ file, name: gname, rules });
  });
  return errors.length > 0 ? { ok: false, errors } : { ok: true, groups, files: [file] };
}

function stringMap(raw: unknown, what: string, fail: (m: string) => void): Record<string, string> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    fail(`expected ${what} as a mapping`);
    return {};
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') fail(`expected ${what}.${k} as a string`);
    else out[k] = String(v);
  }
  return out;
}

const DURATION_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 31_536_000_000 };

/** A Prometheus duration ("5m", "1h30m", "0s") in ms. */
export function promDurationMs(raw: unknown): number | undefined {
  if (typeof raw !== 'string') return undefined;
  if (raw === '0') return 0;
  const parts = [...raw.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== raw) return undefined;
  return parts.reduce((sum, p) => sum + Number(p[1]) * DURATION_MS[p[2]!]!, 0);
}
