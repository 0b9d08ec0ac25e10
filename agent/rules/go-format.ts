/**
 * Go's float formatting (fmt's %v, %g, %e, %f), so alert text rendered by the agent reads exactly as
 * Prometheus renders the same template. JavaScript's toPrecision/toFixed round ties up where Go rounds
 * them to even, and print exponents differently; this works on the exact decimal value instead.
 */

/** The exact decimal digits of |v| (no leading zeros) and the decimal point position: |v| = 0.digits × 10^point. */
function exactDigits(v: number): { digits: string; point: number } {
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, Math.abs(v));
  const bits = buf.getBigUint64(0);
  const exp = Number((bits >> 52n) & 0x7ffn);
  let mant = bits & ((1n << 52n) - 1n);
  let e2: number;
  if (exp === 0) e2 = -1074;
  else {
    mant |= 1n << 52n;
    e2 = exp - 1075;
  }
  if (mant === 0n) return { digits: '', point: 0 };
  let digits: string;
  let point: number;
  if (e2 >= 0) {
    digits = (mant << BigInt(e2)).toString();
    point = digits.length;
  } else {
    digits = (mant * 5n ** BigInt(-e2)).toString();
    point = digits.length - -e2;
  }
  const trimmed = digits.replace(/0+$/, '');
  return { digits: trimmed, point };
}

/** Rounds a digit string to `n` digits, ties to even (the exact value is known, so a 5 followed by nothing is a true tie). */
function roundDigits(d: { digits: string; point: number }, n: number): { digits: string; point: number } {
  if (n < 0) return { digits: '', point: d.point };
  if (d.digits.length <= n) return d;
  const head = d.digits.slice(0, n);
  const next = d.digits[n]!;
  const tie = next === '5' && d.digits.length === n + 1;
  const up = tie ? n > 0 && Number(head[n - 1]) % 2 === 1 : next >= '5';
  if (!up) return { digits: head.replace(/0+$/, ''), point: d.point };
  // Add one at the last kept digit.
  const arr = head.split('').map(Number);
  let i = n - 1;
  while (i >= 0 && arr[i] === 9) {
    arr[i] = 0;
    i--;
  }
  if (i < 0) return { digits: '1', point: d.point + 1 };
  arr[i]! += 1;
  return { digits: arr.join('').replace(/0+$/, ''), point: d.point };
}

/** Shortest digits that read back as `v`: JavaScript's and Go's shortest forms agree. */
function shortestDigits(v: number): { digits: string; point: number } {
  const [mant, exp] = Math.abs(v).toExponential().split('e') as [string, string];
  const digits = mant.replace('.', '').replace(/0+$/, '');
  return { digits, point: Number(exp) + 1 };
}

function special(v: number): string | undefined {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return undefined;
}

const sign = (v: number): string => (v < 0 || Object.is(v, -0) ? '-' : '');

function fmtE(neg: string, d: { digits: string; point: number }, prec: number): string {
  const ds = d.digits || '0';
  let out = neg + ds[0]!;
  if (prec > 0) out += `.${ds.slice(1, prec + 1).padEnd(prec, '0')}`;
  const exp = d.digits === '' ? 0 : d.point - 1;
  const abs = Math.abs(exp);
  return `${out}e${exp < 0 ? '-' : '+'}${abs < 10 ? `0${abs}` : String(abs)}`;
}

function fmtF(neg: string, d: { digits: string; point: number }, prec: number): string {
  let out = neg;
  if (d.point > 0) out += d.digits.slice(0, d.point).padEnd(d.point, '0');
  else out += '0';
  if (prec > 0) {
    out += '.';
    for (let i = 1; i <= prec; i++) {
      const j = d.point + i - 1;
      out += j >= 0 && j < d.digits.length ? d.digits[j] : '0';
    }
  }
  return out;
}

/** Go's %g with precision `prec`; -1 is the shortest form, which is also what %v prints. */
export function goG(v: number, prec: number): string {
  const sp = special(v);
  if (sp) return sp;
  const neg = sign(v);
  const shortest = prec < 0;
  let d: { digits: string; point: number };
  if (v === 0) d = { digits: '', point: 0 };
  else if (shortest) d = shortestDigits(v);
  else d = roundDigits(exactDigits(v), prec === 0 ? 1 : prec);
  let p = shortest ? d.digits.length : prec === 0 ? 1 : prec;
  const nd = d.digits.length;
  let eprec = p;
  if (eprec > nd && nd >= d.point) eprec = nd;
  if (shortest) eprec = 6;
  const exp = d.point - 1;
  if (nd > 0 && (exp < -4 || exp >= eprec)) {
    if (p > nd) p = nd;
    return fmtE(neg, d, p - 1);
  }
  if (p > d.point) p = nd;
  return fmtF(neg, d, Math.max(p - d.point, 0));
}

/** Go's %.Nf. */
export function goF(v: number, prec: number): string {
  const sp = special(v);
  if (sp) return sp;
  const d = v === 0 ? { digits: '', point: 0 } : exactDigits(v);
  return fmtF(sign(v), roundDigits(d, d.point + prec), prec);
}

/** Go's %.Ne. */
export function goE(v: number, prec: number): string {
  const sp = special(v);
  if (sp) return sp;
  const d = v === 0 ? { digits: '', point: 0 } : roundDigits(exactDigits(v), prec + 1);
  return fmtE(sign(v), d, prec);
}
