import { compileRegex, type LinearRegex } from '../config/regex.js';

/** A shell-style glob (`*`, `?`, `[abc]`) as an anchored pattern that runs in linear time. */
export function globToRegExp(glob: string): LinearRegex {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') out += '.*';
    else if (c === '?') out += '.';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end === -1) {
        out += '\\[';
      } else {
        const body = glob.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\');
        out += `[${body}]`;
        i = end;
      }
    } else out += c.replace(/[.+*?^${}()|[\]\\]/g, '\\$&');
  }
  return compileRegex(out, { anchored: true, dotAll: true });
}

/** Why a glob cannot be compiled (a bracket RE2 rejects, such as `[z-a]`), or undefined. */
export function globError(glob: string): string | undefined {
  try {
    globToRegExp(glob);
    return undefined;
  } catch (err) {
    return `expected a glob (*, ?, [abc]): ${(err as Error).message}`;
  }
}
