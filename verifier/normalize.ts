/**
 * Normalisation: makes equivalent values identical on both sides before the structural diff.
 * Rather than rewriting values into a canonical form, an equivalent V2 value is replaced by
 * legacy's own value, so what is left to diff, and every value a finding shows, is what the
 * services actually sent. The walk follows the rule paths only (a rule trie), so a 200,000
 * element array with one rule under it costs one visit per element, not a full tree walk.
 *
 * The inputs are owned by the caller and are changed in place (V2's side, and both sides for
 * `ignore`): pass freshly parsed values.
 */
import { absDifferenceAtMost, compareDecimal, parseDecimal, parseDecimalLiteral, type Decimal } from '../shared/decimal.js';
import type { CompareRules } from '../shared/config.js';
import { exactNumberText, isExactNumber, stringifyExact } from './json-exact.js';
import { escapeSegment, parsePointer, templatePointer } from './pointer.js';
import { instantsEqual } from './timestamp.js';
import type { Finding } from './types.js';

export interface RuleNode {
  children: Map<string, RuleNode>;
  star?: RuleNode;
  ignore: boolean;
  decimal: boolean;
  timestamp: boolean;
  tolerance?: Decimal;
  keyField?: string;
}

export interface CompiledRules {
  root: RuleNode;
  /** No rule at all: the reconcile walk can be skipped. */
  empty: boolean;
}

export type RuleInput = Partial<Pick<CompareRules, 'ignore' | 'decimal' | 'timestamp' | 'unorderedArrays' | 'tolerance'>>;

function newNode(): RuleNode {
  return { children: new Map(), ignore: false, decimal: false, timestamp: false };
}

function nodeAt(root: RuleNode, pointer: string): RuleNode {
  let node = root;
  for (const seg of parsePointer(pointer)) {
    if (seg === '*') node = node.star ??= newNode();
    else {
      let next = node.children.get(seg);
      if (!next) node.children.set(seg, (next = newNode()));
      node = next;
    }
  }
  return node;
}

const compiledCache = new WeakMap<object, CompiledRules>();

export function compileRules(rules: RuleInput | undefined): CompiledRules {
  if (!rules) return { root: newNode(), empty: true };
  const cached = compiledCache.get(rules);
  if (cached) return cached;
  const root = newNode();
  let count = 0;
  for (const p of rules.ignore ?? []) {
    nodeAt(root, p).ignore = true;
    count++;
  }
  for (const p of rules.decimal ?? []) {
    nodeAt(root, p).decimal = true;
    count++;
  }
  for (const p of rules.timestamp ?? []) {
    nodeAt(root, p).timestamp = true;
    count++;
  }
  for (const [p, key] of Object.entries(rules.unorderedArrays ?? {})) {
    nodeAt(root, p).keyField = key;
    count++;
  }
  for (const [p, t] of Object.entries(rules.tolerance ?? {})) {
    const abs = parseDecimal(typeof t === 'number' ? t : t.abs);
    if (abs) nodeAt(root, p).tolerance = abs;
    count++;
  }
  const compiled = { root, empty: count === 0 };
  compiledCache.set(rules, compiled);
  return compiled;
}

// ---- leaf equivalences -------------------------------------------------------------------

const PLAIN_DECIMAL = /^-?\d+(?:\.\d+)?$/;

/** Plain decimal text without trailing fraction zeros, or undefined when the fast path does not apply. */
function plainDecimalText(v: unknown): string | undefined {
  let s: string;
  if (typeof v === 'number') {
    s = String(v);
    return s.includes('e') ? undefined : s;
  }
  if (typeof v !== 'string' || !PLAIN_DECIMAL.test(v)) return undefined;
  s = v;
  if (s.includes('.')) {
    let end = s.length;
    while (s.charCodeAt(end - 1) === 48 /* 0 */) end--;
    if (s.charCodeAt(end - 1) === 46 /* . */) end--;
    s = s.slice(0, end);
  }
  return s;
}

/** A number, a marked exact number (any length, any exponent: bounded work) or a decimal string. */
export function toDecimal(v: unknown): Decimal | undefined {
  return isExactNumber(v) ? parseDecimalLiteral(exactNumberText(v as string)) : parseDecimal(v);
}

/** `10.5` == `"10.50"` == `"1.05e1"`, never through a float. */
export function decimalEquivalent(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a === 'number' && typeof b === 'number') return false;
  const x = plainDecimalText(a);
  if (x !== undefined && x === plainDecimalText(b)) return true;
  const da = toDecimal(a);
  if (!da) return false;
  const db = toDecimal(b);
  return db !== undefined && compareDecimal(da, db) === 0;
}

function withinTolerance(a: unknown, b: unknown, tol: Decimal): boolean {
  if (a === b) return true;
  const da = toDecimal(a);
  const db = toDecimal(b);
  if (!da || !db) return false;
  return absDifferenceAtMost(da, db, tol);
}

// ---- keyed arrays ------------------------------------------------------------------------

function elementKey(e: unknown, keyField: string): string {
  if (e !== null && typeof e === 'object' && !Array.isArray(e) && Object.prototype.hasOwnProperty.call(e, keyField)) {
    const k = (e as Record<string, unknown>)[keyField];
    if (typeof k === 'string') return isExactNumber(k) ? exactNumberText(k) : k;
    if (typeof k === 'number' || typeof k === 'boolean') return String(k);
    return '\u0001' + stringifyExact(k);
  }
  // Elements without the key match an identical element.
  return '\u0002' + stringifyExact(e);
}

/**
 * Lines V2's elements up with legacy's by key: the result has legacy's length and order.
 * Unmatched legacy elements become `missing` findings (and are filled with legacy's own
 * element so the diff skips them); unmatched V2 elements become `extra` findings.
 */
function alignKeyed(l: unknown[], v: unknown[], keyField: string, ptr: string, out: Finding[]): unknown[] {
  const byKey = new Map<string, number | number[]>();
  for (let j = 0; j < v.length; j++) {
    const k = elementKey(v[j], keyField);
    const prev = byKey.get(k);
    if (prev === undefined) byKey.set(k, j);
    else if (typeof prev === 'number') byKey.set(k, [prev, j]);
    else prev.push(j);
  }
  const used = new Uint8Array(v.length);
  const aligned = new Array<unknown>(l.length);
  const path = templatePointer(ptr) + '/*';
  for (let i = 0; i < l.length; i++) {
    const k = elementKey(l[i], keyField);
    const hit = byKey.get(k);
    let j: number | undefined;
    if (typeof hit === 'number') {
      j = hit;
      byKey.delete(k);
    } else if (hit !== undefined) {
      j = hit.shift();
      if (hit.length === 0) byKey.delete(k);
    }
    if (j === undefined) {
      aligned[i] = l[i];
      out.push({ path, pointer: `${ptr}/${i}`, kind: 'missing', legacy: l[i] });
    } else {
      aligned[i] = v[j];
      used[j] = 1;
    }
  }
  for (let j = 0; j < v.length; j++) {
    if (!used[j]) out.push({ path, pointer: `${ptr}/${j}`, kind: 'extra', v2: v[j] });
  }
  return aligned;
}

// ---- the walk ----------------------------------------------------------------------------

function isNumber(x: unknown): boolean {
  return typeof x === 'number' || isExactNumber(x);
}

function isContainer(x: unknown): x is Record<string, unknown> | unknown[] {
  return x !== null && typeof x === 'object';
}

/** Returns V2's value to keep (legacy's own when equivalent). */
function reconcile(l: unknown, v: unknown, node: RuleNode, ptr: string, out: Finding[]): unknown {
  if (node.decimal && decimalEquivalent(l, v)) return l;
  if (node.timestamp && (l === v || instantsEqual(l, v))) return l;
  if (node.tolerance && withinTolerance(l, v, node.tolerance)) return l;
  if (node.keyField !== undefined && Array.isArray(l) && Array.isArray(v)) v = alignKeyed(l, v, node.keyField, ptr, out);
  if ((node.children.size === 0 && !node.star) || !isContainer(l) || !isContainer(v) || Array.isArray(l) !== Array.isArray(v)) return v;

  if (Array.isArray(l)) {
    const va = v as unknown[];
    for (const [seg, child] of node.children) {
      if (/^\d+$/.test(seg)) reconcileIndex(l, va, Number(seg), child, ptr, out);
    }
    if (node.star) {
      const n = Math.max(l.length, va.length);
      for (let i = 0; i < n; i++) reconcileIndex(l, va, i, node.star, ptr, out);
    }
  } else {
    const lo = l as Record<string, unknown>;
    const vo = v as Record<string, unknown>;
    for (const [seg, child] of node.children) reconcileKey(lo, vo, seg, child, ptr, out);
    if (node.star) {
      for (const k of Object.keys(lo)) reconcileKey(lo, vo, k, node.star, ptr, out);
      for (const k of Object.keys(vo)) if (!Object.prototype.hasOwnProperty.call(lo, k)) reconcileKey(lo, vo, k, node.star, ptr, out);
    }
  }
  return v;
}

function reconcileIndex(l: unknown[], v: unknown[], i: number, child: RuleNode, ptr: string, out: Finding[]): void {
  if (i >= l.length || i >= v.length) return;
  if (child.ignore) {
    v[i] = l[i];
    return;
  }
  v[i] = reconcile(l[i], v[i], child, `${ptr}/${i}`, out);
}

function reconcileKey(l: Record<string, unknown>, v: Record<string, unknown>, k: string, child: RuleNode, ptr: string, out: Finding[]): void {
  const inL = Object.prototype.hasOwnProperty.call(l, k);
  const inV = Object.prototype.hasOwnProperty.call(v, k);
  if (child.ignore) {
    if (inL) delete l[k];
    if (inV) delete v[k];
    return;
  }
  if (inL && inV) v[k] = reconcile(l[k], v[k], child, `${ptr}/${escapeSegment(k)}`, out);
}

/**
 * Applies the rules. Returns V2's normalised value; findings the rules themselves produce
 * (keyed array elements missing or extra) are pushed to `out`.
 */
export function applyRules(legacy: unknown, v2: unknown, rules: CompiledRules, out: Finding[]): unknown {
  if (rules.empty) return v2;
  return reconcile(legacy, v2, rules.root, '', out);
}

/**
 * Long numbers kept exact by the parser: where both sides hold the same number (in any
 * form), V2's becomes legacy's. Needed only when a side had marked exact numbers.
 */
export function reconcileExactNumbers(l: unknown, v: unknown): unknown {
  if (l === v) return v;
  if (isExactNumber(l) || isExactNumber(v)) return isNumber(l) && isNumber(v) && decimalEquivalent(l, v) ? l : v;
  if (!isContainer(l) || !isContainer(v) || Array.isArray(l) !== Array.isArray(v)) return v;
  if (Array.isArray(l)) {
    const va = v as unknown[];
    const n = Math.min(l.length, va.length);
    for (let i = 0; i < n; i++) va[i] = reconcileExactNumbers(l[i], va[i]);
  } else {
    const vo = v as Record<string, unknown>;
    for (const k of Object.keys(l)) {
      if (Object.prototype.hasOwnProperty.call(vo, k)) vo[k] = reconcileExactNumbers((l as Record<string, unknown>)[k], vo[k]);
    }
  }
  return v;
}

/**
 * Whether a decimal, timestamp or tolerance rule covers the pointer: there a number and a
 * string are two forms of one kind of value, and differ by `value`, not by `type`.
 */
export function valueRuleAt(rules: CompiledRules, pointer: string): boolean {
  if (rules.empty) return false;
  let nodes: RuleNode[] = [rules.root];
  for (const seg of parsePointer(pointer)) {
    const next: RuleNode[] = [];
    for (const n of nodes) {
      const c = n.children.get(seg);
      if (c) next.push(c);
      if (n.star) next.push(n.star);
    }
    if (next.length === 0) return false;
    nodes = next;
  }
  return nodes.some((n) => n.decimal || n.timestamp || n.tolerance !== undefined);
}
