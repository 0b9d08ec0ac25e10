import type { Labels } from './sample.js';

/**
 * The identity of a label set, the same for the same labels in any order: the one key every map of
 * series or alerts uses. The separators cannot occur in a label name.
 */
export function labelsKey(labels: Labels): string {
  let key = '';
  for (const k of Object.keys(labels).sort()) key += `${key ? '\u0000' : ''}${k}\u0001${labels[k]}`;
  return key;
}
