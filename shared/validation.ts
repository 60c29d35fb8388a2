/**
 * Turning schema issues into lines a user can act on: the field path, the rule, and the value
 * that broke it when it is short (never the value of a secret-named field). Shared by the
 * config, the plan and the admin API documents, so every bad input reads the same way.
 */
import type { z } from 'zod';
import { secretNames } from './secrets.js';

const MAX_SHOWN_VALUE = 60;

/** `routes[2].weight` from a zod path. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out || '(root)';
}

/** The raw value at a path (undefined when absent). */
export function valueAt(raw: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let v = raw;
  for (const k of path) {
    if (v === null || typeof v !== 'object') return undefined;
    if (!Object.prototype.hasOwnProperty.call(v, k)) return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

/** JSON's names for a value's type (`array` and `null` apart from `object`). */
export function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (v instanceof Date) return 'date';
  return typeof v;
}

/** The value as the user wrote it, when it is short enough to repeat (and not a secret). */
export function shownValue(v: unknown, path: ReadonlyArray<PropertyKey>): string | undefined {
  const last = path[path.length - 1];
  if (typeof last === 'string' && secretNames().has(last)) return undefined;
  if (v === undefined || (typeof v === 'object' && v !== null && !(v instanceof Date))) return undefined;
  let text: string;
  try {
    text = v instanceof Date ? v.toISOString() : typeof v === 'bigint' ? String(v) : JSON.stringify(v);
  } catch {
    return undefined;
  }
  if (text === undefined || text.length > MAX_SHOWN_VALUE) return undefined;
  // a URL's password never goes into a message
  return text.replace(/(\/\/[^:/@"]*:)[^@/"]*@/, '$1***@');
}

const SHOWS_VALUE = new Set(['too_big', 'too_small', 'invalid_value', 'invalid_format', 'custom', 'not_multiple_of', 'invalid_union']);

/** One line per issue: `path: rule (expected number, got string "10")`. */
export function issueLine(issue: z.core.$ZodIssue, raw: unknown, prefix: ReadonlyArray<PropertyKey> = []): string {
  const path = [...prefix, ...issue.path];
  if (issue.code === 'unrecognized_keys') {
    const at = formatPath(path);
    return `${at === '(root)' ? '' : at + '.'}${issue.keys.join(', ')}: unknown key (check the spelling against the documented fields)`;
  }
  const value = valueAt(raw, issue.path);
  if (issue.code === 'invalid_type') {
    if (value === undefined) return `${formatPath(path)}: is required`;
    const shown = shownValue(value, path);
    return `${formatPath(path)}: ${issue.message} (expected ${issue.expected}, got ${typeName(value)}${shown ? ` ${shown}` : ''})`;
  }
  const shown = SHOWS_VALUE.has(issue.code) ? shownValue(value, path) : undefined;
  return `${formatPath(path)}: ${issue.message}${shown && !issue.message.includes(shown) ? ` (got ${shown})` : ''}`;
}

/** Paths at or under `under` (to drop issues that repeat a problem already reported there). */
export function isUnder(path: ReadonlyArray<PropertyKey>, under: ReadonlyArray<PropertyKey>): boolean {
  return under.length <= path.length && under.every((k, i) => path[i] === k);
}
