/**
 * Redaction: configured headers and JSON paths are masked in everything the verifier keeps,
 * writes or serves (verdicts, examples, files, the Redis stream, CLI output). Comparison runs
 * on the real values first, so a difference in a secret field is still reported, masked.
 */
import { REDACTED, secretNames, type SecretNames } from '../shared/secrets.js';
import { parsePointer, patternCovers } from './pointer.js';
import { BODY_PATH, HEADER_PATH_PREFIX, type Finding } from './types.js';

export { REDACTED };

export interface RedactSettings {
  /** Exact secret names (headers, query parameters, JSON keys). */
  headers?: readonly string[];
  /** Name fragments that make a name secret (shared/secrets.ts). */
  patterns?: readonly string[];
  paths?: readonly string[];
}

export class Redactor {
  /** The secret-name test (`has(name)`), shared with every other sink. */
  readonly headers: SecretNames;
  readonly paths: readonly string[];
  private readonly keyNames: readonly string[];
  private readonly textKeyRe: RegExp | undefined;

  constructor(settings: RedactSettings = {}) {
    this.headers = secretNames({ headers: settings.headers, patterns: settings.patterns });
    this.paths = [...(settings.paths ?? [])];
    // Last segments of the redacted paths, for bodies that are not JSON (masked as `"name": "..."`).
    this.keyNames = [...new Set(this.paths.map((p) => parsePointer(p).pop()).filter((k): k is string => !!k && k !== '*'))];
    this.textKeyRe = this.keyNames.length
      ? new RegExp(`("(?:${this.keyNames.map(escapeRe).join('|')})"\\s*:\\s*)("(?:[^"\\\\]|\\\\.)*"|[^,}\\]\\s]+)`, 'g')
      : undefined;
  }

  /** A copy of the headers with sensitive values masked. */
  redactHeaders(h: Record<string, string> | undefined): Record<string, string> {
    return this.headers.headers(h);
  }

  /** `/a?auth_token=abc&x=1` -> `/a?auth_token=[REDACTED]&x=1`. */
  redactUrlPath(path: string): string {
    return this.headers.url(path);
  }

  /**
   * Masks, in a JSON value found at `pointer`, everything under a redacted path and the values
   * of secret-named keys. Returns a new value when it changed anything.
   */
  redactValueAt(pointer: string, value: unknown): unknown {
    if (value === undefined) return value;
    const last = pointer.slice(pointer.lastIndexOf('/') + 1).replace(/~1/g, '/').replace(/~0/g, '~');
    if (pointer !== '' && this.headers.has(last) && (typeof value !== 'object' || value === null || Array.isArray(value))) return REDACTED;
    const masked = this.headers.json(value);
    if (this.paths.length === 0) return masked;
    value = masked;
    for (const p of this.paths) if (patternCovers(p, pointer)) return REDACTED;
    const depth = pointer === '' ? 0 : pointer.split('/').length - 1;
    let out: unknown = value;
    for (const p of this.paths) {
      const segs = parsePointer(p);
      if (segs.length <= depth) continue;
      if (!patternCovers(formatPrefix(p, depth), pointer)) continue;
      out = maskInside(out, segs.slice(depth));
    }
    return out;
  }

  /** Masks secret-looking `"name": value` pairs in text (non-JSON bodies). */
  redactText(text: string): string {
    const masked = this.headers.text(text);
    return this.textKeyRe ? masked.replace(this.textKeyRe, `$1"${REDACTED}"`) : masked;
  }

  /** A copy of the finding with its values masked where the config says so. */
  redactFinding(f: Finding): Finding {
    if (f.path.startsWith(HEADER_PATH_PREFIX)) {
      if (!this.headers.has(f.path.slice(HEADER_PATH_PREFIX.length))) return f;
      return maskBoth(f, () => REDACTED);
    }
    if (f.path === BODY_PATH) return maskBoth(f, (v) => (typeof v === 'string' ? this.redactText(v) : v));
    if (f.path.startsWith('@')) return f;
    return maskBoth(f, (v) => this.redactValueAt(f.pointer, v));
  }
}

function maskBoth(f: Finding, mask: (v: unknown) => unknown): Finding {
  const out: Finding = { ...f };
  if ('legacy' in f) out.legacy = mask(f.legacy);
  if ('v2' in f) out.v2 = mask(f.v2);
  return out;
}

function formatPrefix(pointer: string, depth: number): string {
  return pointer.split('/').slice(0, depth + 1).join('/');
}

function maskInside(value: unknown, segs: string[]): unknown {
  if (segs.length === 0) return REDACTED;
  if (value === null || typeof value !== 'object') return value;
  const [head, ...rest] = segs;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      if (head !== '*' && head !== String(i)) continue;
      const m = maskInside(value[i], rest);
      if (m !== value[i]) (copy ??= value.slice())[i] = m;
    }
    return copy ?? value;
  }
  const obj = value as Record<string, unknown>;
  let copy: Record<string, unknown> | undefined;
  for (const k of head === '*' ? Object.keys(obj) : Object.prototype.hasOwnProperty.call(obj, head) ? [head] : []) {
    const m = maskInside(obj[k], rest);
    if (m !== obj[k]) (copy ??= { ...obj })[k] = m;
  }
  return copy ?? value;
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
