import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { COLLECTOR_NAMES } from '../../agent/collectors/names.js';
import { configSchema } from '../../agent/config/schema.js';

const doc = (name: string) => readFileSync(new URL(`../../docs/${name}`, import.meta.url), 'utf8');

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  innerType?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
  element?: z.ZodType;
  options?: z.ZodType[];
  valueType?: z.ZodType;
}
const defOf = (s: z.ZodType) => (s as unknown as { _zod: { def: Def } })._zod.def;

/** Every key path the schema accepts below `schema`, arrays as `[]` (zod's own structure, walked as zod 4 lays it out). */
function keyPaths(schema: z.ZodType, prefix: string[] = []): string[][] {
  const def = defOf(schema);
  switch (def.type) {
    case 'object':
      return Object.entries(def.shape!).flatMap(([key, child]) => [[...prefix, key], ...keyPaths(child, [...prefix, key])]);
    case 'optional':
    case 'default':
    case 'prefault':
    case 'nullable':
    case 'readonly':
    case 'catch':
      return keyPaths(def.innerType!, prefix);
    case 'pipe':
      return [...keyPaths(def.in!, prefix), ...keyPaths(def.out!, prefix)];
    case 'array':
      return keyPaths(def.element!, [...prefix, '[]']);
    case 'union':
      return def.options!.flatMap((o) => keyPaths(o, prefix));
    default:
      return [];
  }
}

/** The text of the section whose `## ` heading names `key` in backticks, up to the next `## `. */
function section(text: string, key: string): string {
  const start = text.split('\n').findIndex((l) => l.startsWith('## ') && l.includes(`\`${key}\``));
  if (start === -1) return '';
  const lines = text.split('\n').slice(start + 1);
  const end = lines.findIndex((l) => l.startsWith('## '));
  return lines.slice(0, end === -1 ? undefined : end).join('\n');
}

const POLICY_KEYS = ['policies', 'active_policy', 'calendar', 'enforcement'];
const unique = (paths: string[][]) => [...new Map(paths.map((p) => [p.join('.'), p])).values()];

describe('docs/configuration.md and the schema', () => {
  const config = doc('configuration.md');
  const paths = unique(keyPaths(configSchema as unknown as z.ZodType));

  it('the walk finds the schema, nested lists included (so a missing key below could not hide)', () => {
    const names = paths.map((p) => p.join('.'));
    for (const known of ['sampling.interval', 'criteria.[].include.[].cmdline', 'process_groups.top_k', 'policies.[].allocations.[].cpu_percent', 'enforcement.audit_log.keep']) {
      expect(names).toContain(known);
    }
  });

  it('has a section for every top-level key, and each key below it appears in that section', () => {
    const missing: string[] = [];
    for (const path of paths) {
      const [top, ...rest] = path;
      const policy = POLICY_KEYS.includes(top!);
      const text = policy ? section(doc('policies.md'), 'Configuration keys') || doc('policies.md').split('## Configuration keys')[1] || '' : section(config, top!);
      if (!policy && text === '') missing.push(`${top}: no "## \`${top}\`" section`);
      const leaf = rest.filter((p) => p !== '[]').at(-1);
      // Documented: the key appears as a word in code in its section (a table's `key`, `a.b.key` or `{ key, ... }`).
      const inCode = new Set([...text.matchAll(/`([^`]+)`/g)].flatMap((m) => m[1]!.match(/[a-z_]+/g) ?? []));
      if (leaf !== undefined && !inCode.has(leaf)) missing.push(path.join('.'));
    }
    expect(missing).toEqual([]);
  });

  it('the policy section in docs/configuration.md points at docs/policies.md for its keys', () => {
    const heading = config.split('\n').find((l) => l.startsWith('## ') && POLICY_KEYS.every((k) => l.includes(`\`${k}\``)));
    expect(heading).toBeDefined();
    expect(section(config, 'policies')).toContain('docs/policies.md');
  });

  it('lists every collector with its default', () => {
    const text = section(config, 'collectors');
    for (const name of COLLECTOR_NAMES) expect(text, name).toMatch(new RegExp(`^\\| \`${name}\` \\| (on|off) \\|`, 'm'));
  });
});
