/**
 * Exact decimals for money: a BigInt coefficient and a scale (value = coef / 10^scale).
 * `10.5`, `"10.50"` and `"1.05e1"` are equal. Never goes through a float for strings; a JS number
 * is read through its shortest round-trip text (exact for what JSON text with <= 15 significant
 * digits said; the verifier keeps the source text of longer numbers).
 */
export interface Decimal {
  coef: bigint;
  scale: number;
}

const DECIMAL_RE = /^([+-])?(\d+)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$|^([+-])?\.(\d+)(?:[eE]([+-]?\d+))?$/;

/**
 * Exponents are kept, not multiplied out, once the zeros they stand for pass this many: `1e400`
 * still becomes a 401-digit coefficient (as before), `1e99999999` stays `{ coef: 1n, scale: -99999999 }`.
 * Every function here takes either form; comparisons never build a power of ten larger than
 * the digits involved.
 */
export const MAX_MATERIALIZED_ZEROS = 400;

/** Parses a decimal from a string or number; undefined when it is not one (strings over 400 characters included). */
export function parseDecimal(value: unknown): Decimal | undefined {
  let text: string;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return undefined;
    text = String(value);
  } else if (typeof value === 'string') {
    text = value.trim();
    if (text.length === 0 || text.length > 400) return undefined;
  } else if (typeof value === 'bigint') {
    return { coef: value, scale: 0 };
  } else {
    return undefined;
  }
  return parseDecimalText(text);
}

/**
 * Parses decimal text of any length (a JSON number literal, say): the work is linear in the
 * text, whatever its exponent. Undefined when it is not a decimal.
 */
export function parseDecimalLiteral(text: string): Decimal | undefined {
  return parseDecimalText(text);
}

function parseDecimalText(text: string): Decimal | undefined {
  const m = DECIMAL_RE.exec(text);
  if (!m) return undefined;
  const sign = m[1] ?? m[5];
  const intPart = m[2] ?? '0';
  const frac = m[3] ?? m[6] ?? '';
  const exp = Number(m[4] ?? m[7] ?? 0);
  let coef = BigInt(intPart + frac);
  let scale = frac.length - exp;
  if (coef === 0n) return { coef: 0n, scale: 0 };
  if (scale < 0) {
    if (-scale <= MAX_MATERIALIZED_ZEROS) {
      coef *= 10n ** BigInt(-scale);
      scale = 0;
    } else {
      // Keep the exponent; strip the coefficient's own trailing zeros so equal values look alike.
      const digits = coef.toString();
      let end = digits.length;
      while (end > 1 && digits.charCodeAt(end - 1) === 48) end--;
      if (end < digits.length) {
        scale -= digits.length - end;
        coef = BigInt(digits.slice(0, end));
      }
    }
  }
  if (sign === '-') coef = -coef;
  return normalize({ coef, scale });
}

/** Strips trailing zeros so equal values have equal representations. */
export function normalize(d: Decimal): Decimal {
  let { coef, scale } = d;
  if (scale > 0 && coef % 10n === 0n) {
    // One string pass instead of a division per zero (a literal may end in thousands of them).
    const digits = (coef < 0n ? -coef : coef).toString();
    let end = digits.length;
    while (end > 1 && scale - (digits.length - end) > 0 && digits.charCodeAt(end - 1) === 48) end--;
    const stripped = digits.length - end;
    if (stripped > 0) {
      coef = BigInt(digits.slice(0, end)) * (coef < 0n ? -1n : 1n);
      scale -= stripped;
    }
  }
  if (coef === 0n) scale = 0;
  return { coef, scale };
}

/**
 * Aligning costs a power of ten of the scale difference between non-zero values: callers keep
 * that difference bounded. A zero's scale says nothing, so a zero takes the other side's scale
 * and is never scaled: 0 against `1e-999999999` or `1e999999999` builds no power of ten.
 */
function align(a: Decimal, b: Decimal): [bigint, bigint, number] {
  const scale = a.coef === 0n ? b.scale : b.coef === 0n ? a.scale : Math.max(a.scale, b.scale);
  return [scaleTo(a, scale), scaleTo(b, scale), scale];
}

function scaleTo(d: Decimal, scale: number): bigint {
  return d.coef === 0n ? 0n : d.coef * 10n ** BigInt(scale - d.scale);
}

/** Scale differences up to this are aligned with a power of ten (cheap); beyond it digits are compared. */
const ALIGN_CHEAP = 64;

function magnitudeDigits(coef: bigint): string {
  return (coef < 0n ? -coef : coef).toString();
}

/**
 * Orders two decimals by sign, then by the position of their leading digit, then digit by
 * digit: bounded by the digits they hold, whatever their exponents (`1e99999999` against
 * `2e99999999` costs what `1` against `2` does).
 */
export function compareDecimal(a: Decimal, b: Decimal): -1 | 0 | 1 {
  if (a.scale === b.scale || Math.abs(a.scale - b.scale) <= ALIGN_CHEAP) {
    const [x, y] = align(a, b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  const sa = a.coef < 0n ? -1 : a.coef > 0n ? 1 : 0;
  const sb = b.coef < 0n ? -1 : b.coef > 0n ? 1 : 0;
  if (sa !== sb) return sa < sb ? -1 : 1;
  if (sa === 0) return 0;
  const mag = compareMagnitude(magnitudeDigits(a.coef), a.scale, magnitudeDigits(b.coef), b.scale);
  // `0 - mag`, not `-mag`: equal negative values give 0, not -0.
  return (sa > 0 ? mag : 0 - mag) as -1 | 0 | 1;
}

/** |x| against |y| for digit strings without sign: value = digits / 10^scale. */
function compareMagnitude(da: string, scaleA: number, db: string, scaleB: number): -1 | 0 | 1 {
  // Position of the leading digit (the value is 0.d1d2... x 10^top).
  const topA = da.length - scaleA;
  const topB = db.length - scaleB;
  if (topA !== topB) return topA < topB ? -1 : 1;
  let endA = da.length;
  while (endA > 1 && da.charCodeAt(endA - 1) === 48) endA--;
  let endB = db.length;
  while (endB > 1 && db.charCodeAt(endB - 1) === 48) endB--;
  const n = Math.min(endA, endB);
  for (let i = 0; i < n; i++) {
    const x = da.charCodeAt(i);
    const y = db.charCodeAt(i);
    if (x !== y) return x < y ? -1 : 1;
  }
  return endA === endB ? 0 : endA < endB ? -1 : 1;
}

/** The position of the leading digit (10^top <= |d| < 10^(top+1)); undefined for zero. */
function topPosition(d: Decimal): number | undefined {
  if (d.coef === 0n) return undefined;
  return magnitudeDigits(d.coef).length - 1 - d.scale;
}

/** Aligned digits beyond which `absDifferenceAtMost` stops doing exact arithmetic. */
const MAX_ALIGNED_DIGITS = 20_000;

/**
 * |a - b| <= limit, exact while the three numbers span at most about 20,000 digit positions
 * (any tolerance a person configures, any amount); beyond that span, only the cases the
 * leading digits decide are answered, and the rest say "not within" (a difference is reported
 * rather than hidden). Never builds a power of ten larger than that span.
 */
export function absDifferenceAtMost(a: Decimal, b: Decimal, limit: Decimal): boolean {
  if (compareDecimal(a, b) === 0) return limit.coef >= 0n;
  if (limit.coef < 0n) return false;
  const parts = [a, b, limit].filter((d) => d.coef !== 0n);
  const top = Math.max(...parts.map((d) => topPosition(d)!));
  const low = Math.min(...parts.map((d) => -d.scale));
  const digits = parts.reduce((n, d) => n + magnitudeDigits(d.coef).length, 0);
  if (top - low <= MAX_ALIGNED_DIGITS + 2 * digits) {
    return compareDecimal(absDecimal(subtractDecimal(a, b)), limit) <= 0;
  }
  const ta = topPosition(a);
  const tb = topPosition(b);
  const hi = Math.max(ta ?? -Infinity, tb ?? -Infinity);
  const tl = topPosition(limit);
  // |a - b| < 2 * 10^(hi+1) <= 10^(hi+2); the limit is at least 10^tl.
  if (tl !== undefined && tl >= hi + 2) return true;
  // Otherwise "not within": either the leading digits say so (far apart, with a limit below
  // the larger one), or they cannot tell, and a difference is reported rather than hidden.
  return false;
}

export function decimalEquals(a: unknown, b: unknown): boolean {
  const x = parseDecimal(a);
  const y = parseDecimal(b);
  return x !== undefined && y !== undefined && compareDecimal(x, y) === 0;
}

export function addDecimal(a: Decimal, b: Decimal): Decimal {
  const [x, y, scale] = align(a, b);
  return normalize({ coef: x + y, scale });
}

export function subtractDecimal(a: Decimal, b: Decimal): Decimal {
  return addDecimal(a, { coef: -b.coef, scale: b.scale });
}

export function absDecimal(a: Decimal): Decimal {
  return a.coef < 0n ? { coef: -a.coef, scale: a.scale } : a;
}

/** Plain text with at least `minScale` decimals (`formatDecimal(parseDecimal('10.5')!, 2)` = "10.50"). */
export function formatDecimal(d: Decimal, minScale = 0): string {
  const scale = Math.max(d.scale, minScale);
  const coef = d.coef * 10n ** BigInt(scale - d.scale);
  const neg = coef < 0n;
  const digits = (neg ? -coef : coef).toString().padStart(scale + 1, '0');
  const int = digits.slice(0, digits.length - scale);
  const frac = digits.slice(digits.length - scale);
  return `${neg ? '-' : ''}${int}${scale > 0 ? '.' + frac : ''}`;
}

/** Integer minor units at `scale` (cents for 2); undefined when the value has more decimals than that. */
export function toMinorUnits(value: unknown, scale = 2): bigint | undefined {
  const d = parseDecimal(value);
  if (!d || d.scale > scale) return undefined;
  return d.coef * 10n ** BigInt(scale - d.scale);
}

export function fromMinorUnits(minor: bigint, scale = 2): string {
  return formatDecimal({ coef: minor, scale }, scale);
}

/** A decimal as text parts: value = sign x 0.digits x 10^top; `digits` has no leading or trailing zeros ('' for zero). */
export interface DecimalParts {
  sign: -1 | 0 | 1;
  digits: string;
  top: number;
}

/**
 * Decimal text split into sign, significant digits and the position of the leading one: string
 * work linear in the text, no BigInt (a 100 KB literal costs what reading it does).
 */
export function decimalParts(text: string): DecimalParts | undefined {
  const m = DECIMAL_RE.exec(text);
  if (!m) return undefined;
  const negative = (m[1] ?? m[5]) === '-';
  const intPart = m[2] ?? '';
  const frac = m[3] ?? m[6] ?? '';
  const exp = Number(m[4] ?? m[7] ?? 0);
  const all = intPart + frac;
  let i0 = 0;
  while (i0 < all.length && all.charCodeAt(i0) === 48) i0++;
  if (i0 === all.length) return { sign: 0, digits: '', top: 0 };
  let i1 = all.length - 1;
  while (all.charCodeAt(i1) === 48) i1--;
  return { sign: negative ? -1 : 1, digits: all.slice(i0, i1 + 1), top: intPart.length - i0 + exp };
}

/** Orders two decimal texts exactly (see `decimalParts`); undefined when one is not a decimal. */
export function compareDecimalText(a: string, b: string): -1 | 0 | 1 | undefined {
  const x = decimalParts(a);
  const y = decimalParts(b);
  if (!x || !y) return undefined;
  if (x.sign !== y.sign) return x.sign < y.sign ? -1 : 1;
  if (x.sign === 0) return 0;
  let mag: -1 | 0 | 1;
  if (x.top !== y.top) mag = x.top < y.top ? -1 : 1;
  else if (x.digits === y.digits) mag = 0;
  else {
    const n = Math.min(x.digits.length, y.digits.length);
    let i = 0;
    while (i < n && x.digits.charCodeAt(i) === y.digits.charCodeAt(i)) i++;
    mag = i < n ? (x.digits.charCodeAt(i) < y.digits.charCodeAt(i) ? -1 : 1) : x.digits.length < y.digits.length ? -1 : 1;
  }
  // `0 - mag`, not `-mag`: equal negative values give 0, not -0.
  return (x.sign > 0 ? mag : 0 - mag) as -1 | 0 | 1;
}
