/**
 * Escaping for every text a report writes. Response bodies, paths and reasons come from
 * outside; nothing from the input reaches a renderer's output except through these.
 */

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

/** Text content and attribute values (always quote attributes with "). */
export function escHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"'`]/g, (c) => HTML_ESCAPES[c]!);
}

/**
 * Markdown prose (table cells): no HTML, no emphasis, no links, no table breaks, and no more
 * escapes than that takes, so the source stays readable: `<` and `&` (before an entity name)
 * get a backslash, not an HTML entity; `>` is left alone (it only quotes at the start of a
 * line, and a cell is one line); `( ) { } + # !` are harmless once `[ ]` are escaped.
 */
export function escMd(value: unknown): string {
  return String(value ?? '')
    .replace(/\r?\n|\r/g, ' ')
    .replace(/[\\`*[\]|~<]/g, (c) => `\\${c}`)
    .replace(/&(?=#?\w+;)/g, '\\&')
    .replace(/(^|[^A-Za-z0-9])_|_(?=[^A-Za-z0-9]|$)/g, (m) => m.replace('_', '\\_'))
    .replace(/^([#>+-])/, '\\$1');
}

/**
 * A Markdown code span that survives any content: the fence is longer than any backtick run
 * inside, `|` is escaped for tables (GFM allows `\|` inside code spans in tables).
 */
export function mdCode(value: unknown): string {
  const s = String(value ?? '')
    .replace(/\r?\n|\r/g, ' ')
    .replace(/\|/g, '\\|');
  let longest = 0;
  for (const m of s.matchAll(/`+/g)) longest = Math.max(longest, m[0].length);
  const fence = '`'.repeat(longest + 1);
  const pad = s.startsWith('`') || s.endsWith('`') || s === '' ? ' ' : '';
  return `${fence}${pad}${s}${pad}${fence}`;
}
