/**
 * Defensive redaction for what a report shows. The verifier masks configured fields before it
 * stores anything; the report applies the same rules again to every example it renders, so a
 * missed mask upstream still never reaches a report file.
 */
import { type JNode, compact, escapePointerToken, fromValue, parseLossless, splitPointer } from './json-tree.js';
import { REDACTED, secretNames } from '../shared/secrets.js';

export { REDACTED };

export interface RedactionRules {
  /** Exact secret names (headers, query parameters, JSON keys). */
  headers: readonly string[];
  /** Name fragments that make a name secret (shared/secrets.ts). */
  patterns: readonly string[];
  paths: readonly string[];
}

export interface Redactor {
  readonly rules: { headers: string[]; patterns: string[]; paths: string[] };
  /** True when a concrete pointer (or one of its ancestors) is configured as redacted. */
  covers(pointer: string): boolean;
  /** Masks inside a tree whose root sits at `basePointer`. Returns a new tree. */
  tree(node: JNode, basePointer?: string): JNode;
  /**
   * JSON text of a differing field's value at `pointer` (a plain JS value), masked; null when
   * absent. `path` is the templated path, used for `@status` / `@headers/NAME` / `@body`.
   */
  fieldText(pointer: string, value: unknown, path?: string): string | null;
  headers(h: Record<string, string>): Record<string, string>;
  url(u: string): string;
  /** A body that is not JSON: masks `"name": value` for the last key of each redacted path and each redacted header name. */
  text(body: string): string;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function segmentsMatch(pattern: readonly string[], concrete: readonly string[]): boolean {
  if (pattern.length !== concrete.length) return false;
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i] !== '*' && pattern[i] !== concrete[i]) return false;
  }
  return true;
}

export function createRedactor(rules: Partial<RedactionRules> = {}): Redactor {
  const headerSet = secretNames({ headers: rules.headers, patterns: rules.patterns });
  const headers = [...headerSet.exact];
  const paths = [...new Set(rules.paths ?? [])];
  const patterns = paths.map(splitPointer);

  const keyNames = [
    ...new Set([...paths.map((p) => splitPointer(p).pop()).filter((k): k is string => !!k && k !== '*'), ...headers]),
  ].map((k) => k.replace(/~1/g, '/').replace(/~0/g, '~'));
  const textKeyRe = keyNames.length
    ? new RegExp(`((["']?)(?:${keyNames.map(escapeRe).join('|')})\\2\\s*[:=]\\s*)("(?:[^"\\\\]|\\\\.)*"|[^\\r\\n,}\\]&;]+)`, 'gi')
    : undefined;

  const matches = (segs: readonly string[]) => patterns.some((p) => segmentsMatch(p, segs));
  const covers = (pointer: string) => {
    const segs = splitPointer(pointer);
    for (let len = 0; len <= segs.length; len++) if (matches(segs.slice(0, len))) return true;
    return false;
  };

  const masked: JNode = { t: 'str', v: REDACTED };
  /** Copy-on-write: returns the same node when nothing under it is masked. `segs` is a shared stack. */
  const walk = (node: JNode, segs: string[]): JNode => {
    if (patterns.length > 0 && matches(segs)) return masked;
    if (node.t === 'obj') {
      let copy: Array<[string, JNode]> | undefined;
      for (let i = 0; i < node.entries.length; i++) {
        const [k, v] = node.entries[i]!;
        let next: JNode;
        if (headerSet.has(k) && v.t !== 'obj') next = masked;
        else if (v.t === 'obj' || v.t === 'arr' || patterns.length > 0) {
          segs.push(escapePointerToken(k));
          next = walk(v, segs);
          segs.pop();
        } else next = v;
        if (next !== v) (copy ??= node.entries.slice())[i] = [k, next];
      }
      return copy ? { t: 'obj', entries: copy } : node;
    }
    if (node.t === 'arr') {
      let copy: JNode[] | undefined;
      for (let i = 0; i < node.items.length; i++) {
        const v = node.items[i]!;
        if (v.t !== 'obj' && v.t !== 'arr' && patterns.length === 0) continue;
        segs.push(String(i));
        const next = walk(v, segs);
        segs.pop();
        if (next !== v) (copy ??= node.items.slice())[i] = next;
      }
      return copy ? { t: 'arr', items: copy } : node;
    }
    return node;
  };

  const maskText = (body: string) => {
    const byName = headerSet.text(body);
    return textKeyRe ? byName.replace(textKeyRe, (_m, head: string) => `${head}${JSON.stringify(REDACTED)}`) : byName;
  };

  return {
    rules: { headers, patterns: [...headerSet.patterns], paths },
    covers,
    tree(node, basePointer = '') {
      if (covers(basePointer)) return { t: 'str', v: REDACTED };
      return walk(node, splitPointer(basePointer));
    },
    fieldText(pointer, value, path) {
      if (value === undefined) return null;
      const where = pointer || path || '';
      if (where.startsWith('@headers/') || where.startsWith('header:')) {
        const name = where.slice(where.indexOf(where.startsWith('@') ? '/' : ':') + 1).toLowerCase();
        return JSON.stringify(headerSet.has(name) ? REDACTED : value);
      }
      if (where.startsWith('@')) {
        // a whole body compared as text: mask inside it when it is JSON after all
        if (typeof value === 'string') {
          const tree = parseLossless(value);
          if (tree && (tree.t === 'obj' || tree.t === 'arr')) return JSON.stringify(compact(walk(tree, [])));
          return JSON.stringify(maskText(value));
        }
        return JSON.stringify(value ?? null);
      }
      const lastKey = splitPointer(where).pop();
      if (covers(where) || (lastKey !== undefined && headerSet.has(lastKey.replace(/~1/g, '/').replace(/~0/g, '~')))) return JSON.stringify(REDACTED);
      return compact(walk(fromValue(value), splitPointer(where)));
    },
    headers(h) {
      return headerSet.headers(h);
    },
    text: maskText,
    url(u) {
      return headerSet.url(u);
    },
  };
}
