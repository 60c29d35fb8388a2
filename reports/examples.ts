/**
 * Example pairs for the report: the two answers side by side, redacted again here, cut to an
 * excerpt around the differing fields, with the lines that differ marked. When the source has
 * no bodies (the admin API keeps only the differing values), the sides list those values.
 */
import type { CapturedResponse, MirroredPair } from '../shared/pairs.js';
import type { ExamplePair, Finding, Verdict } from '../verifier/types.js';
import { parseLossless, prettyLines, type PrettyLine } from './json-tree.js';
import type { Example, ExampleField, ExampleSide } from './model.js';
import type { Redactor } from './redact.js';

export const DEFAULT_EXAMPLE_BODY_BYTES = 6_000;
const MAX_BODY_LINES = 70;
const CONTEXT_LINES = 3;
const MAX_FIELD_CHARS = 300;
const MAX_FIELDS = 20;
/** Bodies larger than this are not parsed for an example (they are not shown either). */
const MAX_PARSE_BYTES = 2_000_000;

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

/** Which lines to keep: context around marked lines; the rest becomes gap lines. */
function excerpt(lines: PrettyLine[], marked: boolean[], maxBytes: number): { text: string; highlight: number[]; gaps: number[]; cut: boolean } {
  const total = lines.length;
  const bytes = lines.reduce((n, l) => n + l.text.length + 1, 0);
  let keep: boolean[];
  if (total <= MAX_BODY_LINES && bytes <= maxBytes) keep = new Array<boolean>(total).fill(true);
  else {
    keep = new Array<boolean>(total).fill(false);
    for (let i = 0; i < Math.min(2, total); i++) keep[i] = true;
    marked.forEach((m, i) => {
      if (!m) return;
      for (let j = Math.max(0, i - CONTEXT_LINES); j <= Math.min(total - 1, i + CONTEXT_LINES); j++) keep[j] = true;
    });
  }
  const out: string[] = [];
  const highlight: number[] = [];
  const gaps: number[] = [];
  let used = 0;
  let cut = false;
  let i = 0;
  while (i < total) {
    if (!keep[i]) {
      let j = i;
      while (j < total && !keep[j]) j++;
      gaps.push(out.length);
      out.push(`… ${j - i} line${j - i === 1 ? '' : 's'} …`);
      i = j;
      cut = true;
      continue;
    }
    const line = lines[i]!.text;
    if (out.length >= MAX_BODY_LINES || used + line.length > maxBytes) {
      gaps.push(out.length);
      out.push(`… ${total - i} more line${total - i === 1 ? '' : 's'} …`);
      cut = true;
      break;
    }
    if (marked[i]) highlight.push(out.length);
    out.push(line);
    used += line.length + 1;
    i++;
  }
  return { text: out.join('\n'), highlight, gaps, cut };
}

function sideFromResponse(resp: CapturedResponse, pointers: string[], redactor: Redactor, maxBytes: number): ExampleSide {
  const base = {
    status: resp.status,
    latencyMs: Number.isFinite(resp.latencyMs) ? resp.latencyMs : null,
    contentType: resp.headers?.['content-type'] ?? null,
    error: resp.error ?? null,
  };
  const body = resp.body ?? '';
  if (body.length === 0) return { ...base, body: '', bodyIsJson: false, bodyTruncated: false, highlight: [], gaps: [] };
  const tree = body.length <= MAX_PARSE_BYTES ? parseLossless(body) : undefined;
  if (!tree) {
    if (body.length > MAX_PARSE_BYTES) {
      return { ...base, body: `(body of ${body.length} bytes not shown)`, bodyIsJson: false, bodyTruncated: true, highlight: [], gaps: [0] };
    }
    const masked = redactor.text(body);
    const text = masked.length > maxBytes ? masked.slice(0, maxBytes) : masked;
    const lines = text.split(/\r?\n/).slice(0, MAX_BODY_LINES);
    const cut = text.length < masked.length || lines.length < text.split(/\r?\n/).length;
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
  const lines = prettyLines(redactor.tree(tree));
  const marked = lines.map((l) => pointers.some((p) => l.pointer === p || (p !== '' && l.pointer.startsWith(`${p}/`))));
  const ex = excerpt(lines, marked, maxBytes);
  return { ...base, body: ex.text, bodyIsJson: true, bodyTruncated: ex.cut || !!resp.truncated, highlight: ex.highlight, gaps: ex.gaps };
}

/** A side made of the differing values only, when the source kept no bodies. */
function sideFromFields(fields: ExampleField[], which: 'legacy' | 'v2', status: number, latencyMs: number | null): ExampleSide {
  const lines: string[] = [];
  for (const f of fields) {
    const v = f[which];
    lines.push(`${f.pointer}: ${v === null ? '(absent)' : v}`);
  }
  return {
    status,
    latencyMs,
    contentType: null,
    body: lines.join('\n'),
    bodyIsJson: false,
    bodyTruncated: false,
    highlight: fields.map((f, i) => (f[which] === null ? -1 : i)).filter((i) => i >= 0),
    gaps: [],
    error: null,
  };
}

export interface ExampleSources {
  pair?: MirroredPair;
  verdict?: Verdict;
}

export function buildExample(ex: ExamplePair, sources: ExampleSources, redactor: Redactor, maxBytes = DEFAULT_EXAMPLE_BODY_BYTES): Example {
  const findings: Array<Pick<Finding, 'pointer' | 'kind' | 'legacy' | 'v2'> & { path?: string }> = sources.verdict?.findings?.length
    ? sources.verdict.findings
    : [{ pointer: ex.pointer, kind: ex.kind, legacy: ex.legacy, v2: ex.v2 }];
  // the example's own field first, then the pair's other differences
  const ordered = [...findings].sort((a, b) => Number(b.pointer === ex.pointer) - Number(a.pointer === ex.pointer));
  const fields = ordered.slice(0, MAX_FIELDS).map((f) => fieldOf(f, redactor));
  const pair = sources.pair;
  const status = sources.verdict?.status ?? { legacy: pair?.legacy.status ?? 0, v2: pair?.v2.status ?? 0 };
  const latency = sources.verdict?.latencyMs;
  const legacyPointers = ordered.filter((f) => f.kind !== 'extra').map((f) => (isBodyPointer(f.pointer) ? f.pointer : (f.path ?? f.pointer)));
  const v2Pointers = ordered.filter((f) => f.kind !== 'missing').map((f) => (isBodyPointer(f.pointer) ? f.pointer : (f.path ?? f.pointer)));
  return {
    pairId: String(ex.pairId),
    traceId: ex.traceId ?? sources.verdict?.traceId ?? pair?.traceId ?? null,
    at: ex.at ?? pair?.at ?? null,
    method: String(ex.method ?? pair?.method ?? ''),
    url: redactor.url(String(ex.path ?? pair?.path ?? '')),
    legacy: pair
      ? sideFromResponse(pair.legacy, legacyPointers, redactor, maxBytes)
      : sideFromFields(fields, 'legacy', status.legacy, latency?.legacy ?? null),
    v2: pair ? sideFromResponse(pair.v2, v2Pointers, redactor, maxBytes) : sideFromFields(fields, 'v2', status.v2, latency?.v2 ?? null),
    fields,
    bodies: !!pair,
  };
}
