const MINUS = 0x2d;

/**
 * The decimal number starting at `start` (an optional minus sign, then digits), up to the first byte
 * that is not a digit; NaN if there is no digit. The /proc parsers read from the bytes the kernel wrote,
 * not from a string, so a sample makes no garbage per field.
 */
export function decimalAt(buf: Uint8Array, start: number, end: number): number {
  let i = start;
  const negative = buf[i] === MINUS;
  if (negative) i++;
  let value = 0;
  let digits = 0;
  for (; i < end; i++) {
    const d = buf[i]! - 48;
    if (d < 0 || d > 9) break;
    value = value * 10 + d;
    digits++;
  }
  if (digits === 0) return Number.NaN;
  return negative ? -value : value;
}
