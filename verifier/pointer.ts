/**
 * JSON Pointers (RFC 6901) and their templated form: array indices (and all-digit keys, which
 * are ids in practice) become `*`, so `/transactions/3/amount` and `/transactions/7/amount`
 * count as one path, `/transactions/*\/amount`. Rule and waiver patterns use `*` for "any".
 */

export function unescapeSegment(s: string): string {
  return s.indexOf('~') === -1 ? s : s.replace(/~1/g, '/').replace(/~0/g, '~');
}

export function escapeSegment(s: string): string {
  return s.indexOf('~') === -1 && s.indexOf('/') === -1 ? s : s.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** `/a/b~1c` -> ['a', 'b/c']; '' -> []. */
export function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer.slice(1).split('/').map(unescapeSegment);
}

export function formatPointer(segments: readonly string[]): string {
  let out = '';
  for (const s of segments) out += '/' + escapeSegment(s);
  return out;
}

const INDEX_LIKE = /^(?:\d+|-)$/;

/** `/transactions/3/amount` -> `/transactions/*\/amount`. Works on escaped pointers. */
export function templatePointer(pointer: string): string {
  if (pointer === '' || pointer.charCodeAt(0) === 64 /* @ */) return pointer;
  const parts = pointer.split('/');
  let changed = false;
  for (let i = 1; i < parts.length; i++) {
    if (INDEX_LIKE.test(parts[i])) {
      parts[i] = '*';
      changed = true;
    }
  }
  return changed ? parts.join('/') : pointer;
}

/** Whether a pattern (with `*` segments) matches a pointer or templated path, segment by segment. */
export function patternMatches(pattern: string, pointer: string): boolean {
  if (pattern === pointer) return true;
  const p = pattern.split('/');
  const q = pointer.split('/');
  if (p.length !== q.length) return false;
  for (let i = 0; i < p.length; i++) if (p[i] !== '*' && p[i] !== q[i]) return false;
  return true;
}

/** Whether `pointer` is `prefix` or lies under it (`/a/b` is under `/a`), with `*` in the prefix. */
export function patternCovers(prefix: string, pointer: string): boolean {
  if (prefix === '') return true;
  const p = prefix.split('/');
  const q = pointer.split('/');
  if (q.length < p.length) return false;
  for (let i = 0; i < p.length; i++) if (p[i] !== '*' && p[i] !== q[i]) return false;
  return true;
}

/** The value at a pointer, or undefined. */
export function getAt(root: unknown, pointer: string): unknown {
  let cur: unknown = root;
  for (const seg of parsePointer(pointer)) {
    if (cur === null || typeof cur !== 'object') return undefined;
    if (Array.isArray(cur)) {
      if (!/^\d+$/.test(seg)) return undefined;
      cur = cur[Number(seg)];
    } else {
      if (!Object.prototype.hasOwnProperty.call(cur, seg)) return undefined;
      cur = (cur as Record<string, unknown>)[seg];
    }
  }
  return cur;
}
