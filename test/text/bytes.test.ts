import { describe, expect, it } from 'vitest';
import { formatBytes } from '../../agent/text/bytes.js';

describe('formatBytes', () => {
  it('picks the largest binary unit below the value', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1023)).toBe('1023 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(2 * 2 ** 30)).toBe('2.0 GiB');
    expect(formatBytes(-3 * 2 ** 20)).toBe('-3.0 MiB');
  });
});
