/**
 * Escaping for every text a report writes. Response bodies, paths and reasons come from
 * outside; nothing from the input reaches a renderer's output except through these.
 */

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

/** Text content and attribute values (always quote attributes with "). */
export function escHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"'`]/g, (c) => HTML_ESCAPES[c]!);
}

/** Markdown prose (table cells): no HTML, no emphasis, no links, no table breaks. */
export function escMd(value: unknown): string {
  return String(value ?? '')
    .replace(/\r?\n|\r/g, ' ')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/[\\`*_{}[\]()#+!|~]/g, (c) => `\\${c}`);
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
