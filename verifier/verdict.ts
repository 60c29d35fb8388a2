/**
 * From a raw comparison to a verdict fit to keep: redact, shorten long values, cap the number
 * of findings (every distinct path keeps at least one), then classify against waivers and
 * noise, which decides the result.
 */
import { exactNumberText, isExactNumber, stringifyExact } from './json-exact.js';
import type { Redactor } from './redact.js';
import type { Finding, FindingKind, OmittedFindings, Verdict, VerdictResult } from './types.js';

export const DEFAULT_MAX_FINDINGS = 20;
export const DEFAULT_MAX_VALUE_CHARS = 512;


function shorten(v: unknown, max: number): unknown {
  // A number too long to show whole is shown as the start of its text (no longer a number).
  // Its length is its literal's, not the marked string's (two characters more).
  if (isExactNumber(v)) {
    const text = exactNumberText(v as string);
    return text.length <= max ? v : `${text.slice(0, max)}… (${text.length} chars)`;
  }
  if (typeof v === 'string') return v.length <= max ? v : `${v.slice(0, max)}… (${v.length} chars)`;
  if (v === null || typeof v !== 'object') return v;
  const text = stringifyExact(v);
  if (text.length <= max) return v;
  return { $truncated: `${text.slice(0, max)}…`, $chars: text.length };
}

export interface FinishOptions {
  maxFindings?: number;
  maxValueChars?: number;
}

/** Redacts, shortens and caps. Runs where the comparison ran (a worker thread). */
export function finishVerdict(v: Verdict, redactor: Redactor, opts: FinishOptions = {}): Verdict {
  const maxFindings = opts.maxFindings ?? DEFAULT_MAX_FINDINGS;
  const maxChars = opts.maxValueChars ?? DEFAULT_MAX_VALUE_CHARS;
  let kept = v.findings;
  let omitted: OmittedFindings[] | undefined;
  if (kept.length > maxFindings) {
    const firsts: Finding[] = [];
    const rest: Finding[] = [];
    const seen = new Set<string>();
    for (const f of v.findings) {
      const key = `${f.kind} ${f.path}`;
      if (seen.has(key)) rest.push(f);
      else {
        seen.add(key);
        firsts.push(f);
      }
    }
    kept = firsts.slice(0, maxFindings);
    const left = [...firsts.slice(maxFindings), ...rest];
    if (kept.length < maxFindings) kept.push(...left.splice(0, maxFindings - kept.length));
    const groups = new Map<string, OmittedFindings>();
    for (const f of left) {
      const key = `${f.kind} ${f.path}`;
      const g = groups.get(key);
      if (g) g.count++;
      else groups.set(key, { path: f.path, kind: f.kind, count: 1 });
    }
    omitted = [...groups.values()];
  }
  const findings = kept.map((f) => {
    const r = redactor.redactFinding(f);
    const out: Finding = { ...r };
    if ('legacy' in r) out.legacy = shorten(r.legacy, maxChars);
    if ('v2' in r) out.v2 = shorten(r.v2, maxChars);
    return out;
  });
  const stored: Verdict = { ...v, path: redactor.redactUrlPath(v.path), findings };
  if (omitted) stored.findingsOmitted = omitted;
  else delete stored.findingsOmitted;
  return stored;
}

/** What decides which findings still count. */
export interface Classifier {
  /** The waiver id that accepts this difference, if any. */
  waiverFor(route: string, path: string, pointer: string | undefined, kind: FindingKind): string | undefined;
  /** Whether the path is noise for the route. */
  isNoise?(route: string, path: string): boolean;
}

function isOpen(f: { waived?: string; noise?: boolean }): boolean {
  return !f.waived && !f.noise;
}

/** Marks waived and noise findings (open ones first) and sets the result. Changes the verdict in place. */
export function classifyVerdict(v: Verdict, c: Classifier): Verdict {
  if (v.result === 'error') return v;
  const mark = (f: { path: string; kind: FindingKind; waived?: string; noise?: boolean }, pointer?: string) => {
    const w = c.waiverFor(v.route, f.path, pointer, f.kind);
    if (w) f.waived = w;
    else delete f.waived;
    if (!w && c.isNoise?.(v.route, f.path)) f.noise = true;
    else delete f.noise;
  };
  for (const f of v.findings) mark(f, f.pointer);
  for (const g of v.findingsOmitted ?? []) mark(g);
  const all = [...v.findings, ...(v.findingsOmitted ?? [])];
  let result: VerdictResult = 'match';
  if (all.length > 0) {
    if (all.some(isOpen)) result = 'mismatch';
    else if (all.some((f) => f.noise)) result = 'noise';
    else result = 'waived';
  }
  // Bodies never compared are no evidence of a match (an open finding elsewhere still is a mismatch).
  if (v.notCompared && result !== 'mismatch') result = 'not-compared';
  v.result = result;
  if (result !== 'match' && v.findings.some((f) => !isOpen(f))) {
    v.findings = [...v.findings.filter(isOpen), ...v.findings.filter((f) => !isOpen(f))];
  }
  return v;
}
