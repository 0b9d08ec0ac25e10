import { readFileSync } from 'node:fs';

/** Text of a /proc capture beside these tests. */
export const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'latin1');
