import { z } from 'zod';
import { RE2JS } from 're2js';

/**
 * A compiled pattern that runs in time linear in the text it meets. Every regular expression that
 * sees what a local user or a scrape target controls (command lines, executable paths, process and
 * device names, label values) goes through here: JavaScript's own engine backtracks, and one crafted
 * command line against `^(\w+\s?)+$` would hold the event loop for ever.
 */
export interface LinearRegex {
  test(text: string): boolean;
}

export interface RegexOptions {
  /** Match the whole text (Prometheus label matchers, globs) rather than find the pattern in it. */
  readonly anchored?: boolean;
  /** `.` also matches a newline, as in a Prometheus matcher (`(?s)`) or a glob's `*`. */
  readonly dotAll?: boolean;
}

/**
 * Compiles RE2 syntax (Go's and Prometheus's): `(?i)` works, backreferences and lookaround do not.
 * Throws when RE2 rejects the pattern; config schemas check with `regexError` first.
 */
export function compileRegex(pattern: string, opts: RegexOptions = {}): LinearRegex {
  const re = RE2JS.compile(opts.anchored ? `^(?:${pattern})$` : pattern, opts.dotAll ? RE2JS.DOTALL : 0);
  return { test: (text) => re.test(text) };
}

/** Why RE2 rejects a pattern, or undefined when it compiles. */
export function regexError(pattern: string): string | undefined {
  try {
    RE2JS.compile(pattern);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** Whether a config string compiles as an RE2 regular expression. */
export function isValidRegex(pattern: string): boolean {
  return regexError(pattern) === undefined;
}

/** A config string that must compile as RE2; the error says what RE2 said about it. */
export const re2Pattern = z.string().superRefine((pattern, ctx) => {
  const error = regexError(pattern);
  if (error !== undefined) ctx.addIssue({ code: 'custom', message: `expected an RE2 regular expression (the syntax Prometheus and Go use): ${error}` });
});
