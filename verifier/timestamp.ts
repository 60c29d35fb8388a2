/**
 * Timestamps as instants: nanoseconds since the epoch as a BigInt, so `2024-05-01T10:00:00Z`,
 * `2024-05-01T12:00:00.000+02:00`, `2024-05-01 10:00:00Z` and epoch milliseconds `1714557600000`
 * compare equal, and sub-millisecond digits are not lost.
 */
import { isExactNumber, exactNumberText } from './json-exact.js';

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?)?$/;
const ISO_BASIC = /^(\d{4})(\d{2})(\d{2})[Tt](\d{2})(\d{2})(\d{2})(?:[.,](\d{1,9}))?(?:([Zz])|([+-])(\d{2})(\d{2})?)?$/;
const EPOCH_MS = /^-?\d{1,16}(?:\.\d{1,6})?$/;

const NS_PER_MS = 1_000_000n;

function fromParts(m: RegExpExecArray): bigint | undefined {
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', z, sign, oh = '0', om = '0'] = m;
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 24 || minute > 59 || second > 60) return undefined;
  const ms = Date.UTC(Number(y), month - 1, day, hour, minute, second);
  if (!Number.isFinite(ms)) return undefined;
  // Date.UTC rolls 2024-02-30 over into March: refuse dates that do not exist.
  const check = new Date(Date.UTC(Number(y), month - 1, day));
  if (check.getUTCDate() !== day) return undefined;
  let ns = BigInt(ms) * NS_PER_MS + BigInt(frac.padEnd(9, '0') || '0');
  // A time without a zone is read as UTC: both sides of a pair are read the same way.
  if (!z && sign) {
    const offsetMin = Number(oh) * 60 + Number(om);
    if (Number(oh) > 23 || Number(om) > 59) return undefined;
    ns -= BigInt((sign === '+' ? 1 : -1) * offsetMin) * 60_000_000_000n;
  }
  return ns;
}

/** The instant a value names, in ns since the epoch; undefined when it is not a timestamp. */
export function parseInstant(value: unknown): bigint | undefined {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return undefined;
    return epochMsText(String(value));
  }
  if (typeof value !== 'string') return undefined;
  if (isExactNumber(value)) return epochMsText(exactNumberText(value));
  const text = value.trim();
  if (text.length < 8 || text.length > 40) return EPOCH_MS.test(text) ? epochMsText(text) : undefined;
  const m = ISO.exec(text) ?? ISO_BASIC.exec(text);
  if (m) return fromParts(m);
  return EPOCH_MS.test(text) ? epochMsText(text) : undefined;
}

function epochMsText(text: string): bigint | undefined {
  if (!EPOCH_MS.test(text)) return undefined;
  const neg = text.startsWith('-');
  const [int, frac = ''] = (neg ? text.slice(1) : text).split('.');
  const ns = BigInt(int) * NS_PER_MS + BigInt(frac.padEnd(6, '0') || '0');
  return neg ? -ns : ns;
}

export function instantsEqual(a: unknown, b: unknown): boolean {
  const x = parseInstant(a);
  return x !== undefined && x === parseInstant(b);
}
