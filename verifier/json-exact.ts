/**
 * JSON parsing that keeps long numbers exact. `JSON.parse` turns `12345678901234567.89` into
 * the nearest double, so two amounts that differ in their last digits would compare equal.
 *
 * Text with no run of 16+ digit-or-dot characters cannot hold a number with more than 15
 * significant digits, and every such number survives a double exactly: that text goes straight
 * to `JSON.parse`. Otherwise a scan (strings skipped) looks for number literals that do not
 * survive a double; when there are any, each is rewritten into a marked string (`"\u0000#<literal>"`); the rest of the verifier reads those with
 * `exactNumberText()` and never through a float.
 */
import { compareDecimal, parseDecimal } from '../shared/decimal.js';

export const EXACT_NUMBER_MARK = '\u0000#';

export interface ParsedJson {
  value: unknown;
  /** True when the value holds marked exact numbers (then a full reconcile pass is needed). */
  exactNumbers: boolean;
}

function isDigitOrDot(c: number): boolean {
  return (c >= 48 && c <= 57) || c === 46;
}

/**
 * Whether the text has a run of 16+ digit-or-dot characters. Such a run covers one of every
 * 16th position, so only those are looked at (and runs extended from there): about 7x faster
 * than the equivalent regex on a 13 MB body.
 */
export function mayHoldLongNumber(s: string): boolean {
  const n = s.length;
  for (let i = 15; i < n; i += 16) {
    if (!isDigitOrDot(s.charCodeAt(i))) continue;
    let a = i;
    let b = i;
    while (a > 0 && isDigitOrDot(s.charCodeAt(a - 1))) a--;
    while (b + 1 < n && isDigitOrDot(s.charCodeAt(b + 1))) b++;
    if (b - a + 1 >= 16) return true;
    i = b;
  }
  return false;
}

/** True when the literal means the same number as the double JSON.parse would make of it. */
function survivesDouble(literal: string): boolean {
  const d = parseDecimal(literal);
  const asDouble = Number(literal);
  if (!d || !Number.isFinite(asDouble)) return false;
  const back = parseDecimal(asDouble);
  return back !== undefined && compareDecimal(d, back) === 0;
}

function isNumberChar(c: number): boolean {
  // digits, '.', 'e', 'E', '+', '-'
  return (c >= 48 && c <= 57) || c === 46 || c === 101 || c === 69 || c === 43 || c === 45;
}

/**
 * [start, end) offsets of the number literals (outside strings) that a double would change,
 * or null when there are none. Tolerant of invalid JSON: JSON.parse reports that afterwards.
 * Long digit runs inside strings (ids, references) are skipped at the speed of indexOf.
 */
function longNumberLiterals(text: string): number[] | null {
  let out: number[] | null = null;
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 34 /* " */) {
      let j = text.indexOf('"', i + 1);
      // A quote preceded by an odd number of backslashes is escaped: keep looking.
      while (j !== -1) {
        let k = j - 1;
        while (text.charCodeAt(k) === 92 /* \ */) k--;
        if ((j - 1 - k) % 2 === 0) break;
        j = text.indexOf('"', j + 1);
      }
      if (j === -1) return out;
      i = j + 1;
      continue;
    }
    if (c === 45 || (c >= 48 && c <= 57)) {
      const start = i;
      i++;
      while (i < n && isNumberChar(text.charCodeAt(i))) i++;
      if (i - start >= 16 && !survivesDouble(text.slice(start, i))) (out ??= []).push(start, i);
      continue;
    }
    i++;
  }
  return out;
}

/** Throws SyntaxError like JSON.parse. */
export function parseJsonExact(text: string): ParsedJson {
  if (!mayHoldLongNumber(text)) return { value: JSON.parse(text), exactNumbers: false };
  const spans = longNumberLiterals(text);
  if (spans === null) return { value: JSON.parse(text), exactNumbers: false };
  let rewritten = '';
  let from = 0;
  for (let s = 0; s < spans.length; s += 2) {
    rewritten += `${text.slice(from, spans[s])}"\\u0000#${text.slice(spans[s], spans[s + 1])}"`;
    from = spans[s + 1];
  }
  rewritten += text.slice(from);
  return { value: JSON.parse(rewritten), exactNumbers: true };
}

export function isExactNumber(v: unknown): boolean {
  return typeof v === 'string' && v.charCodeAt(0) === 0 && v.startsWith(EXACT_NUMBER_MARK);
}

/** The number literal behind a marked string. */
export function exactNumberText(v: string): string {
  return v.slice(EXACT_NUMBER_MARK.length);
}

/** A JSON type name, with marked exact numbers counted as numbers. */
export function jsonType(v: unknown): 'null' | 'boolean' | 'number' | 'string' | 'array' | 'object' | 'undefined' {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  const t = typeof v;
  if (t === 'string') return isExactNumber(v) ? 'number' : 'string';
  if (t === 'number' || t === 'boolean' || t === 'object') return t;
  return 'undefined';
}

/**
 * Replaces marked exact numbers with something JSON can carry without losing digits: the
 * literal as a string. Used where values leave the verifier (findings, examples).
 */
export function unmarkExactNumbers(v: unknown): unknown {
  if (typeof v === 'string') return isExactNumber(v) ? exactNumberText(v) : v;
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < v.length; i++) {
      const u = unmarkExactNumbers(v[i]);
      if (u !== v[i]) (out ??= v.slice())[i] = u;
    }
    return out ?? v;
  }
  let out: Record<string, unknown> | undefined;
  for (const k of Object.keys(v)) {
    const x = (v as Record<string, unknown>)[k];
    const u = unmarkExactNumbers(x);
    if (u !== x) (out ??= { ...(v as Record<string, unknown>) })[k] = u;
  }
  return out ?? v;
}

/** JSON text for a parsed value, with marked exact numbers written back as number literals. */
export function stringifyExact(v: unknown): string {
  const text = JSON.stringify(v);
  if (text === undefined || !text.includes('\\u0000#')) return text;
  return text.replace(/"\\u0000#(-?[0-9.eE+-]+)"/g, '$1');
}
