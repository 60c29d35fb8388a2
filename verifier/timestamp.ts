/**
 * Timestamps as instants, so `2024-05-01T10:00:00Z`, `2024-05-01T12:00:00.000+02:00`,
 * `2024-05-01 10:00:00Z` and epoch milliseconds `1714557600000` compare equal, and digits
 * below the millisecond are not lost. Epoch numbers are milliseconds unless the rule names
 * another unit (`epoch: s` reads `1714557600` as that same instant; `us`, `ns` likewise). An instant is whole epoch milliseconds plus nanoseconds
 * within the millisecond (two exact numbers; no float arithmetic on fractions, no BigInt on the
 * hot path).
 */
import type { EpochUnit } from '../shared/config.js';
import { isExactNumber, exactNumberText } from './json-exact.js';

export interface Instant {
  /** Whole milliseconds since the epoch (floor). */
  ms: number;
  /** Nanoseconds within that millisecond, 0..999999. */
  ns: number;
}

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?)?$/;
const ISO_BASIC = /^(\d{4})(\d{2})(\d{2})[Tt](\d{2})(\d{2})(\d{2})(?:[.,](\d{1,9}))?(?:([Zz])|([+-])(\d{2})(\d{2})?)?$/;
const EPOCH_MS = /^(-?)(\d{1,16})(?:\.(\d{1,6}))?$/;
const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysIn(year: number, month: number): number {
  if (month !== 2) return DAYS[month - 1];
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
}

/** Digits of a fraction of a second as [whole ms, ns within the ms]. */
function fraction(frac: string | undefined): [number, number] {
  if (!frac) return [0, 0];
  const nine = frac.length >= 9 ? frac : frac + '000000000'.slice(frac.length);
  return [Number(nine.slice(0, 3)), Number(nine.slice(3))];
}

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil), pure integer arithmetic. */
function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function fromParts(m: RegExpExecArray): Instant | undefined {
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = m[4] === undefined ? 0 : Number(m[4]);
  const minute = m[5] === undefined ? 0 : Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 24 || minute > 59 || second > 60) return undefined;
  let ms = daysFromCivil(year, month, day) * 86_400_000 + ((hour * 60 + minute) * 60 + second) * 1000;
  const [fms, ns] = fraction(m[7]);
  ms += fms;
  // A time without a zone is read as UTC: both sides of a pair are read the same way.
  if (!m[8] && m[9]) {
    const oh = Number(m[10]);
    const om = m[11] === undefined ? 0 : Number(m[11]);
    if (oh > 23 || om > 59) return undefined;
    ms -= (m[9] === '+' ? 1 : -1) * (oh * 60 + om) * 60_000;
  }
  return { ms, ns };
}

function epochMs(text: string): Instant | undefined {
  const m = EPOCH_MS.exec(text);
  if (!m) return undefined;
  let ms = Number(m[2]);
  let ns = m[3] ? Number((m[3] + '000000').slice(0, 6)) : 0;
  if (m[1] === '-') {
    ms = -ms;
    if (ns > 0) {
      ms -= 1;
      ns = 1_000_000 - ns;
    }
  }
  return { ms, ns };
}

/** Digits of nanoseconds in one unit. */
const NS_DIGITS: Record<EpochUnit, number> = { s: 9, ms: 6, us: 3, ns: 0 };
const EPOCH = /^(-?)(\d{1,22})(?:\.(\d{1,12}))?$/;

/** Epoch text in a unit other than milliseconds: shifted to whole nanoseconds by digits, never through a float. */
function epochIn(text: string, unit: EpochUnit): Instant | undefined {
  if (unit === 'ms') return epochMs(text);
  const m = EPOCH.exec(text);
  if (!m) return undefined;
  const k = NS_DIGITS[unit];
  const frac = m[3] ?? '';
  // Digits below the nanosecond must be zeros: an instant holds nothing finer.
  if (frac.length > k && /[1-9]/.test(frac.slice(k))) return undefined;
  const ns = (m[2] + frac.slice(0, k).padEnd(k, '0')).replace(/^0+(?=\d)/, '');
  if (ns.length > 22) return undefined;
  const msText = ns.length > 6 ? ns.slice(0, ns.length - 6) : '0';
  const below = ns.length > 6 ? ns.slice(ns.length - 6) : ns.padStart(6, '0');
  return epochMs(below === '000000' ? `${m[1]}${msText}` : `${m[1]}${msText}.${below}`);
}

/** The instant a value names; undefined when it is not a timestamp. Numbers are epoch milliseconds unless `unit` says otherwise. */
export function parseInstant(value: unknown, unit: EpochUnit = 'ms'): Instant | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? epochIn(String(value), unit) : undefined;
  if (typeof value !== 'string') return undefined;
  if (isExactNumber(value)) return epochIn(exactNumberText(value), unit);
  const text = value.length > 0 && (value.charCodeAt(0) <= 32 || value.charCodeAt(value.length - 1) <= 32) ? value.trim() : value;
  if (text.length >= 8 && text.length <= 40) {
    const m = ISO.exec(text) ?? ISO_BASIC.exec(text);
    if (m) return fromParts(m);
  }
  return epochIn(text, unit);
}

export function instantsEqual(a: unknown, b: unknown, unit: EpochUnit = 'ms'): boolean {
  const x = parseInstant(a, unit);
  if (x === undefined) return false;
  const y = parseInstant(b, unit);
  return y !== undefined && x.ms === y.ms && x.ns === y.ns;
}
