/**
 * Compares one legacy/V2 pair: status, chosen headers, then the bodies. JSON bodies are
 * normalised by the route's rules (normalize.ts), and what is left goes through
 * fast-json-patch `compare`; each patch operation becomes a finding with a templated path,
 * a kind and both values. Pure: plain data in, a verdict out.
 */
import jsonpatch, { type Operation } from 'fast-json-patch';
import type { CompareRules } from '../shared/config.js';
import { DEFAULT_MAX_BODY_BYTES } from '../shared/config.js';
import type { CapturedResponse, MirroredPair } from '../shared/pairs.js';
import { escapeStrings, jsonType, parseJsonExact, plainValue, stringifyExact, type ParsedJson } from './json-exact.js';
import { applyRules, compileRules, reconcileExactNumbers, valueRuleAt, type CompiledRules, type RuleInput } from './normalize.js';
import { getAt, parsePointer, templatePointer } from './pointer.js';
import { markVolatile } from './volatile.js';
import {
  BODY_PATH,
  HEADER_PATH_PREFIX,
  STATUS_PATH,
  VERDICT_SCHEMA_VERSION,
  type BodyMode,
  type Finding,
  type NotComparedReason,
  type Verdict,
} from './types.js';
import { decodeBody } from './decode.js';

/** Arrays with more touched elements than this are diffed by position only (no `order` detection). */
const ORDER_CHECK_MAX_ELEMENTS = 10_000;

export interface CompareSettings {
  compare?: RuleInput & { headers?: string[] };
  maxBodyBytes?: number;
}

// ---- JSON values ---------------------------------------------------------------------------

function parentPointer(pointer: string): string {
  return pointer.slice(0, pointer.lastIndexOf('/'));
}

/** Sorted-key JSON text: equal values give equal text whatever their key order. */
function canonical(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return '[' + v.map(canonical).join(',') + ']';
  const keys = Object.keys(v).sort();
  return '{' + keys.map((k) => JSON.stringify(k) + ':' + canonical((v as Record<string, unknown>)[k])).join(',') + '}';
}

function sameMultiset(a: unknown[], b: unknown[]): boolean {
  const counts = new Map<string, number>();
  for (const x of a) {
    const k = canonical(x);
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  for (const y of b) {
    const k = canonical(y);
    const c = counts.get(k);
    if (!c) return false;
    counts.set(k, c - 1);
  }
  return true;
}

/**
 * Ordered arrays of equal length whose touched elements are a permutation of each other:
 * their pointers (outermost first). Everything the patch does under one of them is one `order` finding.
 */
function findReordered(ops: Operation[], l: unknown, v: unknown): Set<string> {
  const touched = new Map<string, Set<number>>();
  for (const op of ops) {
    const segs = op.path.split('/');
    let prefix = '';
    for (let i = 1; i < segs.length - (op.op === 'replace' ? 0 : 1); i++) {
      const idx = segs[i];
      if (/^\d+$/.test(idx)) {
        let set = touched.get(prefix);
        if (!set) touched.set(prefix, (set = new Set()));
        set.add(Number(idx));
      }
      prefix += '/' + segs[i];
    }
  }
  const reordered = new Set<string>();
  const prefixes = [...touched.keys()].sort((a, b) => a.length - b.length);
  for (const p of prefixes) {
    const idx = touched.get(p)!;
    if (idx.size < 2 || idx.size > ORDER_CHECK_MAX_ELEMENTS) continue;
    if ([...reordered].some((r) => p === r || p.startsWith(r + '/'))) continue;
    const la = getAt(l, p);
    const va = getAt(v, p);
    if (!Array.isArray(la) || !Array.isArray(va) || la.length !== va.length) continue;
    const picked = [...idx];
    if (sameMultiset(picked.map((i) => la[i]), picked.map((i) => va[i]))) reordered.add(p);
  }
  return reordered;
}

function replaceKind(old: unknown, now: unknown, pointer: string, rules: CompiledRules): 'value' | 'type' {
  const a = jsonType(old);
  const b = jsonType(now);
  if (a === b) return 'value';
  const scalar = (t: string) => t === 'number' || t === 'string';
  return scalar(a) && scalar(b) && valueRuleAt(rules, pointer) ? 'value' : 'type';
}

function findingFromOp(op: Operation, l: unknown, rules: CompiledRules): Finding {
  const pointer = op.path;
  const path = templatePointer(pointer);
  if (op.op === 'replace') {
    const old = getAt(l, pointer);
    return { path, pointer, kind: replaceKind(old, op.value, pointer, rules), legacy: (old), v2: (op.value) };
  }
  const inArray = Array.isArray(getAt(l, parentPointer(pointer)));
  if (op.op === 'remove') return { path, pointer, kind: inArray ? 'array-length' : 'missing', legacy: (getAt(l, pointer)) };
  const value = (op as { value?: unknown }).value;
  return { path, pointer, kind: inArray ? 'array-length' : 'extra', v2: (value) };
}

function isContainer(x: unknown): boolean {
  return x !== null && typeof x === 'object';
}

/**
 * Diffs two parsed JSON values under compiled rules. Takes ownership of both values (they are
 * changed in place). Findings come in patch order, then the keyed-array ones.
 */
export function diffParsed(legacy: unknown, v2: unknown, rules: CompiledRules, exactNumbers = false): Finding[] {
  const ruleFindings: Finding[] = [];
  if (rules.root.ignore) return ruleFindings;
  let v = applyRules(legacy, v2, rules, ruleFindings);
  if (exactNumbers) v = reconcileExactNumbers(legacy, v);
  const findings: Finding[] = [];
  if (isContainer(legacy) && isContainer(v) && Array.isArray(legacy) === Array.isArray(v)) {
    const ops = jsonpatch.compare(legacy as object, v as object);
    if (ops.length > 0) {
      const reordered = ops.length > 1 ? findReordered(ops, legacy, v) : new Set<string>();
      const emitted = new Set<string>();
      for (const op of ops) {
        let under: string | undefined;
        if (reordered.size > 0) for (const r of reordered) if (op.path.startsWith(r + '/')) under = r;
        if (under === undefined) {
          findings.push(findingFromOp(op, legacy, rules));
        } else if (!emitted.has(under)) {
          emitted.add(under);
          findings.push({
            path: templatePointer(under),
            pointer: under,
            kind: 'order',
            legacy: (getAt(legacy, under)),
            v2: (getAt(v, under)),
          });
        }
      }
    }
  } else if (legacy !== v) {
    findings.push({
      path: '',
      pointer: '',
      kind: jsonType(legacy) === jsonType(v) ? 'value' : 'type',
      legacy: (legacy),
      v2: (v),
    });
  }
  for (const f of ruleFindings) {
    if (f.legacy === undefined) delete f.legacy;
    if (f.v2 === undefined) delete f.v2;
    findings.push(f);
  }
  return findings;
}

/**
 * Diffs two JSON values (as JSON.parse makes them) without changing them. Findings hold the
 * values themselves (a string starting with U+0000 is compared as the string it is).
 */
export function diffValues(legacy: unknown, v2: unknown, rules?: RuleInput): Finding[] {
  const findings = diffParsed(escapeStrings(legacy), escapeStrings(v2), compileRules(rules));
  for (const f of findings) {
    if ('legacy' in f) f.legacy = plainValue(f.legacy);
    if ('v2' in f) f.v2 = plainValue(f.v2);
  }
  return findings;
}

/**
 * The patch the findings stand for (no-rule findings only: keyed-array findings have no
 * positional op). Its values are those of the findings: for a pair's findings, parsed the way
 * `parseJsonExact` parses a body, so applying it to `parseJsonExact(legacy body).value` gives
 * V2's, numbers a double cannot hold included; `stringifyExact(patch)` writes those as JSON
 * numbers with their source text.
 */
export function findingsToPatch(findings: Finding[]): Operation[] {
  const ops: Operation[] = [];
  for (const f of findings) {
    switch (f.kind) {
      case 'value':
      case 'type':
      case 'order':
        ops.push({ op: 'replace', path: f.pointer, value: f.v2 });
        break;
      case 'missing':
        ops.push({ op: 'remove', path: f.pointer });
        break;
      case 'extra':
        ops.push({ op: 'add', path: f.pointer, value: f.v2 });
        break;
      case 'array-length':
        ops.push(f.v2 === undefined && 'legacy' in f ? { op: 'remove', path: f.pointer } : { op: 'add', path: f.pointer, value: f.v2 });
        break;
    }
  }
  return ops;
}

// ---- responses -----------------------------------------------------------------------------

const TEXT_PREVIEW = 512;

function tryParse(text: string): ParsedJson | undefined {
  try {
    return parseJsonExact(text);
  } catch {
    return undefined;
  }
}

const contentTypes = new Map<string, string>();

/** Media type and parameters, lower-cased, without spaces and without the redundant `charset=utf-8` of JSON. */
function normalizeContentType(v: string): string {
  const cached = contentTypes.get(v);
  if (cached !== undefined) return cached;
  const out = normalizeContentTypeUncached(v);
  if (contentTypes.size < 256) contentTypes.set(v, out);
  return out;
}

function normalizeContentTypeUncached(v: string): string {
  const parts = v
    .toLowerCase()
    .split(';')
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
  const [type, ...params] = parts;
  const kept = params.filter((p) => !(p.replace(/\s+/g, '') === 'charset=utf-8' && /[/+]json$/.test(type ?? '')));
  return [type, ...kept].join(';');
}

function compareHeaders(a: Record<string, string>, b: Record<string, string>, names: readonly string[], out: Finding[]): void {
  for (const raw of names) {
    const name = raw.toLowerCase();
    const x = a[name];
    const y = b[name];
    const path = HEADER_PATH_PREFIX + name;
    if (x === undefined && y === undefined) continue;
    if (x === undefined) out.push({ path, pointer: path, kind: 'extra', v2: y });
    else if (y === undefined) out.push({ path, pointer: path, kind: 'missing', legacy: x });
    else if (x !== y && (name === 'content-type' ? normalizeContentType(x) !== normalizeContentType(y) : x.trim() !== y.trim())) {
      out.push({ path, pointer: path, kind: 'value', legacy: x, v2: y });
    }
  }
}

function preview(text: string): string {
  return text.length <= TEXT_PREVIEW ? text : `${text.slice(0, TEXT_PREVIEW)}… (${text.length} chars)`;
}

export interface ResponseComparison {
  findings: Finding[];
  body: BodyMode;
  /** Set when one side did not answer: nothing was compared. */
  error?: string;
  /** Set when both answered but the bodies could not be compared. */
  notCompared?: { reason: NotComparedReason; detail: string };
}

/** Why this side's body cannot be compared, before decoding it; undefined when it can be tried. */
function unusable(r: CapturedResponse, name: string, max: number): ResponseComparison['notCompared'] {
  if (r.cutShort || r.error) return { reason: 'cut-short', detail: `${name}: body cut short (${r.error ?? 'the answer stopped before its end'})` };
  if (r.truncated) return { reason: 'too-large', detail: `${name}: body over maxBodyBytes (${max})` };
  return undefined;
}

/** Compares two captured responses to the same request. */
export function compareResponses(legacy: CapturedResponse, other: CapturedResponse, settings: CompareSettings, otherName = 'v2'): ResponseComparison {
  if (!(legacy.status > 0)) return { findings: [], body: 'not-compared', error: `legacy: ${legacy.error ?? 'no response'}` };
  if (!(other.status > 0)) return { findings: [], body: 'not-compared', error: `${otherName}: ${other.error ?? 'no response'}` };
  const findings: Finding[] = [];
  if (legacy.status !== other.status) {
    // Bodies of different statuses (a balance and an error page) say nothing finding by finding.
    findings.push({ path: STATUS_PATH, pointer: STATUS_PATH, kind: 'value', legacy: legacy.status, v2: other.status });
    return { findings, body: 'not-compared' };
  }
  const rules = settings.compare;
  compareHeaders(legacy.headers ?? {}, other.headers ?? {}, rules?.headers ?? ['content-type'], findings);
  const max = settings.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const before = unusable(legacy, 'legacy', max) ?? unusable(other, otherName, max);
  if (before) return { findings, body: before.reason === 'too-large' ? 'too-large' : 'not-compared', notCompared: before };
  const ld = decodeBody(legacy, max);
  if ('reason' in ld) return { findings, body: ld.reason === 'too-large' ? 'too-large' : 'not-compared', notCompared: { reason: ld.reason, detail: `legacy: ${ld.detail}` } };
  const od = decodeBody(other, max);
  if ('reason' in od) return { findings, body: od.reason === 'too-large' ? 'too-large' : 'not-compared', notCompared: { reason: od.reason, detail: `${otherName}: ${od.detail}` } };
  const lb = ld.text;
  const ob = od.text;
  if (lb.length === 0 && ob.length === 0) return { findings, body: 'empty' };
  const lp = lb.length > 0 ? tryParse(lb) : undefined;
  const op = ob.length > 0 ? tryParse(ob) : undefined;
  if (lp && op) {
    findings.push(...diffParsed(lp.value, op.value, compileRules(rules), lp.exactNumbers || op.exactNumbers));
    return { findings, body: 'json' };
  }
  if (lb.length === 0) findings.push({ path: BODY_PATH, pointer: BODY_PATH, kind: 'extra', v2: preview(ob) });
  else if (ob.length === 0) findings.push({ path: BODY_PATH, pointer: BODY_PATH, kind: 'missing', legacy: preview(lb) });
  else if (lb !== ob) {
    findings.push({ path: BODY_PATH, pointer: BODY_PATH, kind: !lp === !op ? 'value' : 'type', legacy: preview(lb), v2: preview(ob) });
  }
  return { findings, body: 'text' };
}

/** The pair's two upstream names, when it carries both (proxies before named upstreams did not). */
export function upstreamNames(pair: MirroredPair): Pick<Verdict, 'legacyUpstream' | 'v2Upstream'> {
  return typeof pair?.legacyUpstream === 'string' && typeof pair.v2Upstream === 'string' ? { legacyUpstream: pair.legacyUpstream, v2Upstream: pair.v2Upstream } : {};
}

/** The verdict for one pair, before waivers and noise are applied (see verdict.ts). */
export function comparePair(pair: MirroredPair, settings: CompareSettings): Verdict {
  const main = compareResponses(pair.legacy, pair.v2, settings);
  const atMs = Date.parse(pair.at);
  if (main.findings.length > 0) markVolatile(main.findings, Number.isFinite(atMs) ? atMs : Date.now());
  const verdict: Verdict = {
    schemaVersion: VERDICT_SCHEMA_VERSION,
    pairId: pair.id,
    route: pair.route,
    ...upstreamNames(pair),
    method: pair.method,
    path: pair.path,
    at: pair.at,
    result: main.error ? 'error' : main.findings.length > 0 ? 'mismatch' : main.notCompared ? 'not-compared' : 'match',
    findings: main.findings,
    status: { legacy: pair.legacy.status, v2: pair.v2.status },
    latencyMs: { legacy: pair.legacy.latencyMs, v2: pair.v2.latencyMs },
    body: main.body,
  };
  if (pair.traceId) verdict.traceId = pair.traceId;
  if (main.error) verdict.error = main.error;
  if (main.notCompared) verdict.notCompared = main.notCompared;
  if (pair.replica) {
    verdict.latencyMs.replica = pair.replica.latencyMs;
    const noise = compareResponses(pair.legacy, pair.replica, settings, 'replica');
    if (!noise.error && !noise.notCompared) verdict.replicaPaths = [...new Set(noise.findings.map((f) => f.path))];
  }
  return verdict;
}

export { compileRules, type CompiledRules, type RuleInput, parsePointer, stringifyExact };
export type { CompareRules };
