/**
 * A lossless JSON tree for report examples: numbers keep their text (`10.10` stays `10.10`,
 * big integers keep every digit), key order is kept, so what a reader sees is what the
 * upstream sent, minus redaction. Pretty-printing returns each line with the JSON Pointer it
 * belongs to, which is how differing fields get highlighted.
 */

export type JNode =
  | { t: 'obj'; entries: Array<[string, JNode]> }
  | { t: 'arr'; items: JNode[] }
  | { t: 'num'; raw: string }
  | { t: 'str'; v: string }
  | { t: 'lit'; raw: 'true' | 'false' | 'null' };

const MAX_DEPTH = 256;

/** Parses JSON text; returns undefined when it is not valid JSON (or nests deeper than 256). */
export function parseLossless(text: string): JNode | undefined {
  let i = 0;
  const n = text.length;
  const ws = () => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 9 || c === 10 || c === 13) i++;
      else break;
    }
  };
  const fail = (): never => {
    throw SYNTAX;
  };
  const str = (): string => {
    // text[i] === '"'
    const start = i;
    i++;
    let simple = true;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 34) break;
      if (c === 92) {
        simple = false;
        i += 2;
        continue;
      }
      if (c < 32) fail();
      i++;
    }
    if (i >= n) fail();
    i++;
    const raw = text.slice(start, i);
    if (simple) return raw.slice(1, -1);
    return JSON.parse(raw) as string;
  };
  const value = (depth: number): JNode => {
    if (depth > MAX_DEPTH) fail();
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const entries: Array<[string, JNode]> = [];
      ws();
      if (text[i] === '}') {
        i++;
        return { t: 'obj', entries };
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail();
        const k = str();
        ws();
        if (text[i] !== ':') fail();
        i++;
        entries.push([k, value(depth + 1)]);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return { t: 'obj', entries };
        }
        fail();
      }
    }
    if (c === '[') {
      i++;
      const items: JNode[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return { t: 'arr', items };
      }
      for (;;) {
        items.push(value(depth + 1));
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return { t: 'arr', items };
        }
        fail();
      }
    }
    if (c === '"') return { t: 'str', v: str() };
    if (text.startsWith('true', i)) {
      i += 4;
      return { t: 'lit', raw: 'true' };
    }
    if (text.startsWith('false', i)) {
      i += 5;
      return { t: 'lit', raw: 'false' };
    }
    if (text.startsWith('null', i)) {
      i += 4;
      return { t: 'lit', raw: 'null' };
    }
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (!m || m[0].length === 0) fail();
    i += m![0].length;
    return { t: 'num', raw: m![0] };
  };
  try {
    const root = value(0);
    ws();
    if (i !== n) return undefined;
    return root;
  } catch (err) {
    if (err === SYNTAX || err instanceof SyntaxError) return undefined;
    throw err;
  }
}

const SYNTAX = new Error('json syntax');
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/** From a plain JS value (already parsed elsewhere). */
export function fromValue(v: unknown, depth = 0): JNode {
  if (depth > MAX_DEPTH) return { t: 'str', v: '[too deep]' };
  if (v === null || v === undefined) return { t: 'lit', raw: 'null' };
  if (typeof v === 'boolean') return { t: 'lit', raw: v ? 'true' : 'false' };
  if (typeof v === 'number') return Number.isFinite(v) ? { t: 'num', raw: String(v) } : { t: 'lit', raw: 'null' };
  if (typeof v === 'bigint') return { t: 'num', raw: v.toString() };
  if (typeof v === 'string') return { t: 'str', v };
  if (Array.isArray(v)) return { t: 'arr', items: v.map((x) => fromValue(x, depth + 1)) };
  if (typeof v === 'object') {
    return { t: 'obj', entries: Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, fromValue(x, depth + 1)]) };
  }
  return { t: 'str', v: String(v) };
}

export function escapePointerToken(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}

export function splitPointer(pointer: string): string[] {
  if (pointer === '' || pointer === '/') return pointer === '/' ? [''] : [];
  return pointer.slice(1).split('/');
}

/** Compact one-line JSON text of a node (numbers as sent). */
export function compact(node: JNode): string {
  switch (node.t) {
    case 'num':
      return node.raw;
    case 'lit':
      return node.raw;
    case 'str':
      return JSON.stringify(node.v);
    case 'arr':
      return `[${node.items.map(compact).join(',')}]`;
    case 'obj':
      return `{${node.entries.map(([k, v]) => `${JSON.stringify(k)}:${compact(v)}`).join(',')}}`;
  }
}

export interface PrettyLine {
  /** 0-based line number in the whole pretty-printed document. */
  index: number;
  text: string;
  /** Pointer of the value this line shows (a container's own pointer for its brackets). */
  pointer: string;
}

const sizes = new WeakMap<JNode, number>();

/** How many lines the pretty-printed node takes (cached; no text is built). */
export function lineCount(node: JNode): number {
  if (node.t !== 'obj' && node.t !== 'arr') return 1;
  const cached = sizes.get(node);
  if (cached !== undefined) return cached;
  let n = 2;
  if (node.t === 'obj') {
    if (node.entries.length === 0) n = 1;
    else for (const [, v] of node.entries) n += lineCount(v);
  } else if (node.items.length === 0) n = 1;
  else for (const v of node.items) n += lineCount(v);
  sizes.set(node, n);
  return n;
}

/** First line and line count of the node at a concrete pointer, or undefined when it is not there. */
export function locateLines(root: JNode, pointer: string): { start: number; size: number } | undefined {
  let cur: JNode = root;
  let start = 0;
  for (const raw of splitPointer(pointer)) {
    const tok = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    let line = start + 1;
    let next: JNode | undefined;
    if (cur.t === 'obj') {
      for (const [k, v] of cur.entries) {
        if (k === tok) {
          next = v;
          break;
        }
        line += lineCount(v);
      }
    } else if (cur.t === 'arr' && /^\d+$/.test(tok)) {
      const idx = Number(tok);
      if (idx < cur.items.length) {
        for (let i = 0; i < idx; i++) line += lineCount(cur.items[i]!);
        next = cur.items[idx];
      }
    }
    if (!next) return undefined;
    cur = next;
    start = line;
  }
  return { start, size: lineCount(cur) };
}

/**
 * Pretty-prints (two-space indentation, one member a line) only the lines in [from, to),
 * each tagged with its number and pointer; subtrees outside the range are skipped unread.
 */
export function renderLines(root: JNode, from: number, to: number, maxLineChars = 400): PrettyLine[] {
  const out: PrettyLine[] = [];
  const cut = (s: string) => (s.length > maxLineChars ? `${s.slice(0, maxLineChars - 1)}…` : s);
  const walk = (node: JNode, start: number, pointer: string, indent: string, prefix: string, suffix: string) => {
    const size = lineCount(node);
    if (start >= to || start + size <= from) return;
    if (node.t === 'obj' || node.t === 'arr') {
      const open = node.t === 'obj' ? '{' : '[';
      const close = node.t === 'obj' ? '}' : ']';
      const n = node.t === 'obj' ? node.entries.length : node.items.length;
      if (n === 0) {
        out.push({ index: start, text: cut(`${indent}${prefix}${open}${close}${suffix}`), pointer });
        return;
      }
      if (start >= from) out.push({ index: start, text: cut(`${indent}${prefix}${open}`), pointer });
      const inner = indent + '  ';
      let line = start + 1;
      for (let i = 0; i < n && line < to; i++) {
        if (node.t === 'obj') {
          const [k, v] = node.entries[i]!;
          walk(v, line, `${pointer}/${escapePointerToken(k)}`, inner, `${JSON.stringify(k)}: `, i < n - 1 ? ',' : '');
          line += lineCount(v);
        } else {
          const v = node.items[i]!;
          walk(v, line, `${pointer}/${i}`, inner, '', i < n - 1 ? ',' : '');
          line += lineCount(v);
        }
      }
      const last = start + size - 1;
      if (last >= from && last < to) out.push({ index: last, text: cut(`${indent}${close}${suffix}`), pointer });
      return;
    }
    out.push({ index: start, text: cut(`${indent}${prefix}${compact(node)}${suffix}`), pointer });
  };
  walk(root, 0, '', '', '', '');
  return out;
}

/** Every line of the pretty-printed node. */
export function prettyLines(root: JNode, maxLineChars = 400): PrettyLine[] {
  return renderLines(root, 0, lineCount(root), maxLineChars);
}

/** The node at a concrete pointer, or undefined. */
export function nodeAt(root: JNode, pointer: string): JNode | undefined {
  let cur: JNode | undefined = root;
  for (const raw of splitPointer(pointer)) {
    if (!cur) return undefined;
    const tok = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (cur.t === 'obj') {
      const hit: [string, JNode] | undefined = cur.entries.find(([k]) => k === tok);
      cur = hit?.[1];
    } else if (cur.t === 'arr') {
      cur = /^\d+$/.test(tok) ? cur.items[Number(tok)] : undefined;
    } else return undefined;
  }
  return cur;
}
