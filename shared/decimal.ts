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

/** Parses a decimal from a string or number; undefined when it is not one. */
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
  const m = DECIMAL_RE.exec(text);
  if (!m) return undefined;
  const sign = m[1] ?? m[5];
  const intPart = m[2] ?? '0';
  const frac = m[3] ?? m[6] ?? '';
  const exp = Number(m[4] ?? m[7] ?? 0);
  let coef = BigInt(intPart + frac);
  let scale = frac.length - exp;
  if (scale < 0) {
    coef *= 10n ** BigInt(-scale);
    scale = 0;
  }
  if (sign === '-') coef = -coef;
  return normalize({ coef, scale });
}

/** Strips trailing zeros so equal values have equal representations. */
export function normalize(d: Decimal): Decimal {
  let { coef, scale } = d;
  while (scale > 0 && coef % 10n === 0n) {
    coef /= 10n;
    scale--;
  }
  if (coef === 0n) scale = 0;
  return { coef, scale };
}

function align(a: Decimal, b: Decimal): [bigint, bigint, number] {
  const scale = Math.max(a.scale, b.scale);
  return [a.coef * 10n ** BigInt(scale - a.scale), b.coef * 10n ** BigInt(scale - b.scale), scale];
}

export function compareDecimal(a: Decimal, b: Decimal): -1 | 0 | 1 {
  const [x, y] = align(a, b);
  return x < y ? -1 : x > y ? 1 : 0;
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
