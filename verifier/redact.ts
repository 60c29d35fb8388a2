/**
 * Redaction: configured headers and JSON paths are masked in everything the verifier keeps,
 * writes or serves (verdicts, examples, files, the Redis stream, CLI output). Comparison runs
 * on the real values first, so a difference in a secret field is still reported, masked.
 */
import { DEFAULT_REDACT_HEADERS } from '../shared/config.js';
import { parsePointer, patternCovers } from './pointer.js';
import { BODY_PATH, HEADER_PATH_PREFIX, type Finding } from './types.js';

export const REDACTED = '[REDACTED]';

/** Query parameters masked in request paths whatever the config says. */
const SECRET_QUERY_NAMES = ['token', 'access_token', 'id_token', 'refresh_token', 'api_key', 'apikey', 'key', 'password', 'secret', 'signature', 'sig'];

export interface RedactSettings {
  headers?: readonly string[];
  paths?: readonly string[];
}

export class Redactor {
  readonly headers: ReadonlySet<string>;
  readonly paths: readonly string[];
  private readonly queryNames: ReadonlySet<string>;
  private readonly keyNames: readonly string[];
  private readonly textKeyRe: RegExp | undefined;

  constructor(settings: RedactSettings = {}) {
    this.headers = new Set((settings.headers ?? DEFAULT_REDACT_HEADERS).map((h) => h.toLowerCase()));
    this.paths = [...(settings.paths ?? [])];
    this.queryNames = new Set([...SECRET_QUERY_NAMES, ...this.headers]);
    // Last segments of the redacted paths, for bodies that are not JSON (masked as `"name": "..."`).
    this.keyNames = [...new Set(this.paths.map((p) => parsePointer(p).pop()).filter((k): k is string => !!k && k !== '*'))];
    this.textKeyRe = this.keyNames.length
      ? new RegExp(`("(?:${this.keyNames.map(escapeRe).join('|')})"\\s*:\\s*)("(?:[^"\\\\]|\\\\.)*"|[^,}\\]\\s]+)`, 'g')
      : undefined;
  }

  /** A copy of the headers with sensitive values masked. */
  redactHeaders(h: Record<string, string> | undefined): Record<string, string> {
    const out: Record<string, string> = {};
    if (!h) return out;
    for (const [k, v] of Object.entries(h)) out[k] = this.headers.has(k.toLowerCase()) ? REDACTED : v;
    return out;
  }

  /** `/a?token=abc&x=1` -> `/a?token=[REDACTED]&x=1`. */
  redactUrlPath(path: string): string {
    const q = path.indexOf('?');
    if (q === -1) return path;
    const parts = path
      .slice(q + 1)
      .split('&')
      .map((kv) => {
        const eq = kv.indexOf('=');
        if (eq === -1) return kv;
        let name: string;
        try {
          name = decodeURIComponent(kv.slice(0, eq)).toLowerCase();
        } catch {
          name = kv.slice(0, eq).toLowerCase();
        }
        return this.queryNames.has(name) ? `${kv.slice(0, eq)}=${REDACTED}` : kv;
      });
    return `${path.slice(0, q)}?${parts.join('&')}`;
  }

  /** Masks, in a JSON value found at `pointer`, everything under a redacted path. Returns a new value when it changed anything. */
  redactValueAt(pointer: string, value: unknown): unknown {
    if (value === undefined || this.paths.length === 0) return value;
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
    return this.textKeyRe ? text.replace(this.textKeyRe, `$1"${REDACTED}"`) : text;
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
