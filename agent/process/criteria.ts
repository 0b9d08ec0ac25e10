import { z } from 'zod';
import { compileRegex, re2Pattern } from '../config/regex.js';
import { globError, globToRegExp } from './glob.js';

/** What a criteria rule can look at: the identity fields of a process row. */
export interface ProcessIdentity {
  readonly comm: string;
  readonly exe: string;
  /** Arguments joined by spaces. */
  readonly cmdline: string;
  /** The first argument, which programs such as nginx or postgres rewrite into a title. */
  readonly argv0: string;
  readonly uid: number;
  readonly user: string;
  readonly gid: number;
  readonly group: string;
  /** Windows service name, when the process hosts one. */
  readonly service?: string;
}

/** A glob, checked at load so that matching never meets a pattern it cannot compile. */
export const glob = z.string().min(1).superRefine((g, ctx) => {
  const error = globError(g);
  if (error) ctx.addIssue({ code: 'custom', message: error });
});

const ruleSchema = z
  .object({
    name: glob.optional().describe('process name glob'),
    exe: glob.optional(),
    cmdline: re2Pattern.min(1).optional(),
    user: z.union([z.string().min(1), z.number().int()]).optional(),
    group: z.union([z.string().min(1), z.number().int()]).optional(),
    service: glob.optional(),
  })
  .strict()
  .refine((r) => Object.keys(r).length > 0, 'expected at least one of name, exe, cmdline, user, group, service');

export const criteriaSchema = z
  .array(
    z
      .object({
        name: z
          .string()
          .regex(/^[a-zA-Z0-9_.-]+$/, 'expected letters, digits, "_", "." or "-"')
          .refine((n) => n !== 'other', '"other" is the group of the processes no criteria matches'),
        include: z.array(ruleSchema).min(1, 'expected at least one include rule').max(100),
        exclude: z.array(ruleSchema).max(100).default([]),
      })
      .strict(),
  )
  // Every process is matched against every criteria at each sample: the count bounds that cost.
  .max(1000, 'expected at most 1000 criteria')
  .default([])
  .superRefine((list, ctx) => {
    const seen = new Set<string>();
    list.forEach((c, i) => {
      if (seen.has(c.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `criteria "${c.name}" is defined twice` });
      seen.add(c.name);
    });
  });

export type CriteriaConfig = z.output<typeof criteriaSchema>;
type Rule = z.output<typeof ruleSchema>;
type Test = (p: ProcessIdentity) => boolean;

export interface CompiledCriteria {
  readonly name: string;
  matches(p: ProcessIdentity): boolean;
}

/**
 * The one process matcher of the agent (process groups, policies and the page use it). A process
 * matches a criteria when any include rule matches and no exclude rule does; the fields inside one
 * rule must all match. `name` matches the kernel's name for the process, its executable's file name,
 * or the program's own title (argv[0]), so `nginx: cache manager*` finds nginx's helper.
 */
export function compileCriteria(config: CriteriaConfig): CompiledCriteria[] {
  return config.map((c) => {
    const include = c.include.map(compileRule);
    const exclude = c.exclude.map(compileRule);
    return { name: c.name, matches: (p) => include.some((t) => t(p)) && !exclude.some((t) => t(p)) };
  });
}

/** Names of every criteria a process matches, in config order: the first is its group. */
export function matchingCriteria(criteria: readonly CompiledCriteria[], p: ProcessIdentity): string[] {
  const out: string[] = [];
  for (const c of criteria) if (c.matches(p)) out.push(c.name);
  return out;
}

function compileRule(rule: Rule): Test {
  const tests: Test[] = [];
  if (rule.name !== undefined) {
    const re = globToRegExp(rule.name);
    tests.push((p) => re.test(p.comm) || re.test(basename(p.exe)) || re.test(p.argv0));
  }
  if (rule.exe !== undefined) {
    const re = globToRegExp(rule.exe);
    tests.push((p) => re.test(p.exe));
  }
  if (rule.cmdline !== undefined) {
    const re = compileRegex(rule.cmdline);
    tests.push((p) => re.test(p.cmdline));
  }
  if (rule.user !== undefined) {
    const want = String(rule.user);
    tests.push((p) => p.user === want || String(p.uid) === want);
  }
  if (rule.group !== undefined) {
    const want = String(rule.group);
    tests.push((p) => p.group === want || String(p.gid) === want);
  }
  if (rule.service !== undefined) {
    const re = globToRegExp(rule.service);
    tests.push((p) => p.service !== undefined && re.test(p.service));
  }
  return (p) => tests.every((t) => t(p));
}

/** The file name of a path; a Windows path (`C:\...`, `\\server\...`) also splits at backslashes. */
const basename = (path: string): string => {
  const windows = /^([A-Za-z]:\\|\\\\)/.test(path);
  return path.slice(Math.max(path.lastIndexOf('/'), windows ? path.lastIndexOf('\\') : -1) + 1);
};
