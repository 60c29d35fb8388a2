/**
 * Helpers for the services tests: JSON requests, and a small stand-in for the verifier's
 * normalisation (ignore / decimal / timestamp / unorderedArrays with `*` for any index), so
 * the demo config's compare rules can be checked against real legacy and V2 answers.
 */
import { formatDecimal, parseDecimal } from '../../shared/decimal.js';
import type { CompareRules } from '../../shared/config.js';

export const FULL_KEY = { 'x-api-key': 'demo-key-full' };

export interface JsonResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

export async function getJson<T = any>(url: string, headers: Record<string, string> = {}): Promise<JsonResponse<T>> {
  const r = await fetch(url, { headers });
  const text = await r.text();
  return { status: r.status, headers: r.headers, body: text ? JSON.parse(text) : undefined };
}

export async function postJson<T = any>(url: string, body: unknown, headers: Record<string, string> = {}): Promise<JsonResponse<T>> {
  const r = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, headers: r.headers, body: text ? JSON.parse(text) : undefined };
}

export async function sendJson(method: string, url: string, body?: unknown): Promise<JsonResponse> {
  const r = await fetch(url, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, headers: r.headers, body: text ? JSON.parse(text) : undefined };
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i], i);
      }
    }),
  );
  return out;
}

type Json = any;

function splitPointer(p: string): string[] {
  return p === '' ? [] : p.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** Calls `edit(parent, key)` for every location the pointer (with `*` wildcards) reaches. */
function visit(root: Json, segments: string[], edit: (parent: Json, key: string | number) => void): void {
  const walk = (node: Json, i: number) => {
    if (node === null || typeof node !== 'object') return;
    const seg = segments[i];
    const keys: Array<string | number> =
      seg === '*' ? (Array.isArray(node) ? node.map((_, k) => k) : Object.keys(node)) : Array.isArray(node) ? [Number(seg)] : [seg];
    for (const k of keys) {
      if (!(k in node)) continue;
      if (i === segments.length - 1) edit(node, k);
      else walk(node[k], i + 1);
    }
  };
  if (segments.length > 0) walk(root, 0);
}

/** Applies compare rules to a deep copy of `body`: what the verifier would diff. */
export function normalizeForCompare(body: Json, rules: Pick<CompareRules, 'ignore' | 'decimal' | 'timestamp' | 'unorderedArrays'>): Json {
  const copy = structuredClone(body);
  for (const p of rules.ignore) {
    visit(copy, splitPointer(p), (parent, key) => {
      if (Array.isArray(parent)) parent[key as number] = '(ignored)';
      else delete parent[key];
    });
  }
  for (const p of rules.decimal) {
    visit(copy, splitPointer(p), (parent, key) => {
      const d = parseDecimal(parent[key]);
      parent[key] = d ? `decimal:${formatDecimal(d)}` : parent[key];
    });
  }
  for (const t of rules.timestamp) {
    visit(copy, splitPointer(typeof t === 'string' ? t : t.path), (parent, key) => {
      const v = parent[key];
      const ms = typeof v === 'number' ? v : typeof v === 'string' ? Date.parse(v) : NaN;
      parent[key] = Number.isFinite(ms) ? `instant:${ms}` : v;
    });
  }
  for (const [p, keyField] of Object.entries(rules.unorderedArrays)) {
    visit(copy, splitPointer(p), (parent, key) => {
      const arr = parent[key];
      if (Array.isArray(arr)) arr.sort((a, b) => String(a?.[keyField]).localeCompare(String(b?.[keyField])));
    });
  }
  return copy;
}
