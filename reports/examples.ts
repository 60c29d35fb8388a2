/**
 * Example pairs for the report: the two answers side by side, redacted again here, cut to an
 * excerpt around the differing fields, with the lines that differ marked. When the source has
 * no bodies (the admin API keeps only the differing values), the sides list those values.
 */
import type { CapturedResponse, MirroredPair } from '../shared/pairs.js';
import type { ExamplePair, Finding, Verdict } from '../verifier/types.js';
import { compact, lineCount, locateLines, nodeAt, parseLossless, renderLines, splitPointer, type JNode } from './json-tree.js';
import type { Example, ExampleField, ExampleSide } from './model.js';
import type { Redactor } from './redact.js';

export const DEFAULT_EXAMPLE_BODY_BYTES = 6_000;
const MAX_BODY_LINES = 70;
const CONTEXT_LINES = 3;
const MAX_FIELD_CHARS = 300;
const MAX_FIELDS = 20;
/** Bodies larger than this are not parsed for an example (they are not shown either). */
const MAX_PARSE_BYTES = 1_048_576;
/** Parsed example bodies in one report: enough for every example of ordinary responses. */
export const DEFAULT_BODY_BUDGET_BYTES = 4 * 1_048_576;

const cutText = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

function fieldOf(f: Pick<Finding, 'pointer' | 'kind' | 'legacy' | 'v2'> & { path?: string }, redactor: Redactor): ExampleField {
  const pointer = f.pointer || f.path || '';
  const show = (v: unknown) => {
    const t = redactor.fieldText(pointer, v, f.path);
    return t === null ? null : cutText(t, MAX_FIELD_CHARS);
  };
  return { pointer, kind: f.kind, legacy: show(f.legacy), v2: show(f.v2) };
}

function isBodyPointer(p: string): boolean {
  return p === '' || p.startsWith('/');
}

/** Lines shown of one marked subtree (a whole missing array element can be long). */
const MAX_MARKED_LINES = 24;

/**
 * The excerpt of a pretty-printed JSON body: all of it when it is small, else its first lines
 * and some context around each differing field; left-out runs become gap lines. Only the kept
 * lines are ever turned into text.
 */
function jsonExcerpt(root: JNode, pointers: string[], bodyBytes: number, maxBytes: number) {
  const total = lineCount(root);
  const ranges = pointers
    .map((p) => locateLines(root, p))
    .filter((r): r is { start: number; size: number } => r !== undefined)
    .sort((a, b) => a.start - b.start);
  const isMarked = (i: number) => ranges.some((r) => i >= r.start && i < r.start + r.size);
  let keep: Array<[number, number]>;
  if (total <= MAX_BODY_LINES && bodyBytes <= maxBytes * 2) keep = [[0, total]];
  else {
    keep = [[0, Math.min(2, total)]];
    for (const r of ranges) keep.push([Math.max(0, r.start - CONTEXT_LINES), Math.min(total, r.start + Math.min(r.size, MAX_MARKED_LINES) + CONTEXT_LINES)]);
    keep.sort((a, b) => a[0] - b[0]);
    const merged: Array<[number, number]> = [];
    for (const k of keep) {
      const last = merged[merged.length - 1];
      if (last && k[0] <= last[1]) last[1] = Math.max(last[1], k[1]);
      else merged.push([k[0], k[1]]);
    }
    keep = merged;
  }
  const out: string[] = [];
  const highlight: number[] = [];
  const gaps: number[] = [];
  let used = 0;
  let at = 0;
  let cut = false;
  const gap = (n: number, more = false) => {
    gaps.push(out.length);
    out.push(`… ${n}${more ? ' more' : ''} line${n === 1 ? '' : 's'} …`);
    cut = true;
  };
  outer: for (const [from, to] of keep) {
    if (from > at) gap(from - at);
    for (const line of renderLines(root, from, to)) {
      if (out.length >= MAX_BODY_LINES || used + line.text.length > maxBytes) {
        gap(total - line.index, true);
        at = total;
        break outer;
      }
      if (isMarked(line.index)) highlight.push(out.length);
      out.push(line.text);
      used += line.text.length + 1;
    }
    at = to;
  }
  if (at < total) gap(total - at);
  return { text: out.join('\n'), highlight, gaps, cut };
}

/** Parsed bytes left for example bodies in the whole report; bodies past it show their fields only. */
export interface BodyBudget {
  bytesLeft: number;
  /** Sides left without their body because of the budget. */
  skipped: number;
}

/** A response read for an example: its JSON tree when it parsed, else its text; nothing when over the budget. */
interface ReadSide {
  resp: CapturedResponse;
  tree?: JNode;
  text?: string;
  skipped?: string;
}

function readSide(resp: CapturedResponse, budget: BodyBudget): ReadSide {
  const body = resp.body ?? '';
  if (body.length === 0) return { resp, text: '' };
  if (body.length > MAX_PARSE_BYTES || body.length > budget.bytesLeft) {
    budget.skipped++;
    const why = body.length > MAX_PARSE_BYTES ? 'too large for a report' : "over the report's size budget";
    return { resp, skipped: `(body of ${body.length} bytes not shown: ${why}; the differing fields are listed above)` };
  }
  budget.bytesLeft -= body.length;
  const tree = parseLossless(body);
  return tree ? { resp, tree } : { resp, text: body };
}

function sideFromResponse(side: ReadSide, pointers: string[], redactor: Redactor, maxBytes: number): ExampleSide {
  const resp = side.resp;
  const base = {
    status: resp.status,
    latencyMs: Number.isFinite(resp.latencyMs) ? resp.latencyMs : null,
    contentType: resp.headers?.['content-type'] ?? null,
    error: resp.error ?? null,
  };
  if (side.skipped) return { ...base, body: side.skipped, bodyIsJson: false, bodyTruncated: true, highlight: [], gaps: [0] };
  if (side.tree) {
    const ex = jsonExcerpt(redactor.tree(side.tree), pointers, (resp.body ?? '').length, maxBytes);
    return { ...base, body: ex.text, bodyIsJson: true, bodyTruncated: ex.cut || !!resp.truncated, highlight: ex.highlight, gaps: ex.gaps };
  }
  const body = side.text ?? '';
  if (body.length === 0) return { ...base, body: '', bodyIsJson: false, bodyTruncated: false, highlight: [], gaps: [] };
  const masked = redactor.text(body);
  const text = masked.length > maxBytes ? masked.slice(0, maxBytes) : masked;
  const all = text.split(/\r?\n/);
  const lines = all.slice(0, MAX_BODY_LINES);
  const cut = text.length < masked.length || lines.length < all.length;
  const marked = pointers.includes('@body');
  return {
    ...base,
    body: lines.join('\n') + (cut ? '\n… cut …' : ''),
    bodyIsJson: false,
    bodyTruncated: cut || !!resp.truncated,
    highlight: marked ? lines.map((_, i) => i) : [],
    gaps: cut ? [lines.length] : [],
  };
}

const segsMatch = (pattern: string[], concrete: string[]) =>
  pattern.length === concrete.length && pattern.every((p, i) => p === '*' || p === concrete[i]);

/**
 * Where a legacy pointer's value sits in V2's body. Findings name legacy's pointer; in an
 * array matched by key (`unorderedArrays`) V2's element with the same key can sit at another
 * index, so each such index is looked up by the element's key.
 */
export function mapPointer(legacy: JNode | undefined, v2: JNode | undefined, pointer: string, keyed: Readonly<Record<string, string>>): string {
  const rules = Object.entries(keyed).map(([p, key]) => [splitPointer(p), key] as const);
  if (!legacy || !v2 || rules.length === 0 || !pointer.startsWith('/')) return pointer;
  const segs = splitPointer(pointer);
  const out: string[] = [];
  let l: JNode | undefined = legacy;
  let v: JNode | undefined = v2;
  for (const seg of segs) {
    let next = seg;
    if (l?.t === 'arr' && v?.t === 'arr' && /^\d+$/.test(seg)) {
      const rule = rules.find(([p]) => segsMatch(p, out.map((x) => (/^\d+$/.test(x) ? '*' : x))));
      const el = l.items[Number(seg)];
      if (rule && el?.t === 'obj') {
        const keyNode = el.entries.find(([k]) => k === rule[1])?.[1];
        const keyText = keyNode ? compact(keyNode) : undefined;
        const idx = keyText === undefined ? -1 : v.items.findIndex((x) => x.t === 'obj' && x.entries.some(([k, n]) => k === rule[1] && compact(n) === keyText));
        if (idx >= 0) next = String(idx);
      }
    }
    out.push(next);
    l = l ? nodeAt(l, `/${seg}`) : undefined;
    v = v ? nodeAt(v, `/${next}`) : undefined;
  }
  return `/${out.join('/')}`;
}

type Skel = { kind: 'obj' | 'arr'; children: Map<string, Skel | { leaf: string | null }> };

/**
 * An excerpt of one side's body rebuilt from the differing fields, when the source kept no
 * bodies: the JSON around each field (its parents), `…` where siblings were left out, the
 * field's line highlighted. Values are the redacted JSON texts of the verdict.
 */
function sideFromFields(fields: ExampleField[], which: 'legacy' | 'v2', status: number, latencyMs: number | null): ExampleSide {
  const lines: string[] = [];
  const highlight: number[] = [];
  const gaps: number[] = [];
  const body = fields.filter((f) => isBodyPointer(f.pointer) && f.pointer !== '');
  const other = fields.filter((f) => !body.includes(f));
  for (const f of other) {
    highlight.push(lines.length);
    lines.push(`${f.pointer}: ${f[which] ?? '(absent)'}`);
  }
  if (body.length) {
    const seg = (p: string) => p.slice(1).split('/').map((x) => x.replace(/~1/g, '/').replace(/~0/g, '~'));
    const root: Skel = { kind: /^\d+$/.test(seg(body[0]!.pointer)[0] ?? '') ? 'arr' : 'obj', children: new Map() };
    for (const f of body) {
      const parts = seg(f.pointer);
      let node = root;
      parts.forEach((k, i) => {
        if (i === parts.length - 1) {
          node.children.set(k, { leaf: f[which] });
          return;
        }
        let next = node.children.get(k);
        if (!next || 'leaf' in next) {
          next = { kind: /^\d+$/.test(parts[i + 1]!) ? 'arr' : 'obj', children: new Map() };
          node.children.set(k, next);
        }
        node = next;
      });
    }
    const render = (n: Skel, indent: string, key: string | null, last: boolean) => {
      const open = n.kind === 'obj' ? '{' : '[';
      const close = n.kind === 'obj' ? '}' : ']';
      lines.push(`${indent}${key !== null ? `${key}: ` : ''}${open}`);
      gaps.push(lines.length);
      lines.push(`${indent}  …`);
      const entries = [...n.children.entries()];
      entries.forEach(([k, c], i) => {
        const label = n.kind === 'obj' ? JSON.stringify(k) : null;
        const isLast = i === entries.length - 1;
        if ('leaf' in c) {
          if (c.leaf === null) {
            gaps.push(lines.length);
            lines.push(`${indent}  (${label ?? `[${k}]`} absent)`);
          } else {
            highlight.push(lines.length);
            lines.push(`${indent}  ${label !== null ? `${label}: ` : `/* [${k}] */ `}${c.leaf}${isLast ? '' : ','}`);
          }
        } else render(c, `${indent}  `, label ?? `/* [${k}] */`, isLast);
      });
      gaps.push(lines.length);
      lines.push(`${indent}  …`);
      lines.push(`${indent}${close}${last ? '' : ','}`);
    };
    render(root, '', null, true);
  }
  return {
    status,
    latencyMs,
    contentType: null,
    body: lines.join('\n'),
    bodyIsJson: false,
    bodyTruncated: true,
    highlight,
    gaps,
    error: null,
  };
}

export interface ExampleSources {
  pair?: MirroredPair;
  verdict?: Verdict;
}

export function buildExample(
  ex: ExamplePair,
  sources: ExampleSources,
  redactor: Redactor,
  maxBytes = DEFAULT_EXAMPLE_BODY_BYTES,
  budget: BodyBudget = { bytesLeft: Infinity, skipped: 0 },
  /** The route's `unorderedArrays` rules (array pointer pattern -> key field). */
  keyedArrays: Readonly<Record<string, string>> = {},
): Example {
  const findings: Array<Pick<Finding, 'pointer' | 'kind' | 'legacy' | 'v2'> & { path?: string }> = sources.verdict?.findings?.length
    ? sources.verdict.findings
    : [{ pointer: ex.pointer, kind: ex.kind, legacy: ex.legacy, v2: ex.v2 }];
  // the example's own field first, then the pair's other differences
  const ordered = [...findings].sort((a, b) => Number(b.pointer === ex.pointer) - Number(a.pointer === ex.pointer));
  const fields = ordered.slice(0, MAX_FIELDS).map((f) => fieldOf(f, redactor));
  const pair = sources.pair;
  const status = sources.verdict?.status ?? { legacy: pair?.legacy.status ?? 0, v2: pair?.v2.status ?? 0 };
  const latency = sources.verdict?.latencyMs;
  const bodyPointer = (f: (typeof ordered)[number]) => (isBodyPointer(f.pointer) ? f.pointer : (f.path ?? f.pointer));
  const ls = pair ? readSide(pair.legacy, budget) : undefined;
  const vs = pair ? readSide(pair.v2, budget) : undefined;
  const legacyPointers = ordered.filter((f) => f.kind !== 'extra').map(bodyPointer);
  // `extra` names V2's pointer already; the others name legacy's
  const v2Pointers = ordered
    .filter((f) => f.kind !== 'missing')
    .map((f) => (f.kind === 'extra' || !isBodyPointer(f.pointer) ? bodyPointer(f) : mapPointer(ls?.tree, vs?.tree, f.pointer, keyedArrays)));
  return {
    pairId: String(ex.pairId),
    traceId: ex.traceId ?? sources.verdict?.traceId ?? pair?.traceId ?? null,
    at: ex.at ?? pair?.at ?? null,
    method: String(ex.method ?? pair?.method ?? ''),
    url: redactor.url(String(ex.path ?? pair?.path ?? '')),
    legacy: ls ? sideFromResponse(ls, legacyPointers, redactor, maxBytes) : sideFromFields(fields, 'legacy', status.legacy, latency?.legacy ?? null),
    v2: vs ? sideFromResponse(vs, v2Pointers, redactor, maxBytes) : sideFromFields(fields, 'v2', status.v2, latency?.v2 ?? null),
    fields,
    bodies: !!pair,
  };
}
