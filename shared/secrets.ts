/**
 * What counts as a secret, in one place: every sink (the proxy's log, request recordings,
 * mirrored pairs, verdicts, the Redis verdict stream, /admin/diffs, reports) asks this module
 * whether a header, query parameter or JSON key names a secret, and masks its value.
 *
 * A name is secret when it is one of the configured exact names (`redact.headers`, default
 * DEFAULT_REDACT_HEADERS) or when it contains one of the patterns (`redact.patterns`, default
 * DEFAULT_SECRET_PATTERNS), case-insensitively. `Idempotency-Key` is never a pattern match: it
 * is what makes a recorded write safe to replay, and it is no credential (docs/secrets.md).
 */

export const REDACTED = '[REDACTED]';

/** Exact names (headers, query parameters, JSON keys) masked by default. */
export const DEFAULT_REDACT_HEADERS = ['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key'];

/** Name fragments that make a header, query parameter or JSON key a secret (case-insensitive). */
export const DEFAULT_SECRET_PATTERNS = [
  'token',
  'secret',
  'password',
  'passwd',
  'session',
  'auth',
  'signature',
  'credential',
  'api-key',
  'apikey',
  'api_key',
  'access_key',
  'private_key',
];

/** Short query names that are secrets by convention but too short to be patterns (`?key=`, `?sig=`). */
const EXACT_QUERY_SECRETS = ['key', 'sig'];

/** Names a pattern never masks (only an exact configured name can). */
const NEVER_BY_PATTERN = new Set(['idempotency-key', 'x-idempotency-key']);

export interface SecretRules {
  /** Exact names (any case). Default: DEFAULT_REDACT_HEADERS. */
  headers?: readonly string[];
  /** Name fragments (any case). Default: DEFAULT_SECRET_PATTERNS. */
  patterns?: readonly string[];
}

const CACHE_LIMIT = 2048;

/**
 * The secret test for one set of rules. `has(name)` is what a `ReadonlySet<string>` of names
 * would answer, so it can stand in for one; answers are cached (names repeat: headers).
 */
export class SecretNames {
  readonly exact: readonly string[];
  readonly patterns: readonly string[];
  private readonly exactSet: ReadonlySet<string>;
  private readonly re: RegExp | undefined;
  private readonly cache = new Map<string, boolean>();

  constructor(rules: SecretRules = {}) {
    this.exact = [...new Set((rules.headers ?? DEFAULT_REDACT_HEADERS).map((h) => h.toLowerCase()))];
    this.patterns = [...new Set((rules.patterns ?? DEFAULT_SECRET_PATTERNS).map((p) => p.toLowerCase()).filter((p) => p !== ''))];
    this.exactSet = new Set(this.exact);
    this.re = this.patterns.length ? new RegExp(this.patterns.map(escapeRe).join('|'), 'i') : undefined;
  }

  /** True when a header, query parameter or JSON key of this name holds a secret. */
  has(name: string): boolean {
    const known = this.cache.get(name);
    if (known !== undefined) return known;
    const lower = name.toLowerCase();
    const secret = this.exactSet.has(lower) || (this.re !== undefined && !NEVER_BY_PATTERN.has(lower) && this.re.test(lower));
    if (this.cache.size < CACHE_LIMIT) this.cache.set(name, secret);
    return secret;
  }

  /** Query parameter names: the same test, plus `key` and `sig`. */
  hasQuery(name: string): boolean {
    return this.has(name) || EXACT_QUERY_SECRETS.includes(name.toLowerCase());
  }

  /** A copy of the headers with secret values masked. */
  headers(h: Record<string, string> | undefined): Record<string, string> {
    const out: Record<string, string> = {};
    if (!h) return out;
    for (const k of Object.keys(h)) out[k] = this.has(k) ? REDACTED : h[k]!;
    return out;
  }

  /** `/a?auth_token=abc&x=1` -> `/a?auth_token=[REDACTED]&x=1` (names percent-decoded; `+` as a space). */
  url(path: string): string {
    const q = path.indexOf('?');
    if (q === -1) return path;
    const hash = path.indexOf('#', q);
    const query = hash === -1 ? path.slice(q + 1) : path.slice(q + 1, hash);
    const parts = query.split('&');
    let changed = false;
    for (let i = 0; i < parts.length; i++) {
      const kv = parts[i]!;
      const eq = kv.indexOf('=');
      if (eq === -1) continue;
      let name = kv.slice(0, eq);
      try {
        name = decodeURIComponent(name.replace(/\+/g, ' '));
      } catch {
        // a malformed escape: judge the raw name
      }
      if (this.hasQuery(name.trim())) {
        parts[i] = `${kv.slice(0, eq)}=${REDACTED}`;
        changed = true;
      }
    }
    if (!changed) return path;
    return `${path.slice(0, q)}?${parts.join('&')}${hash === -1 ? '' : path.slice(hash)}`;
  }

  /**
   * A copy of a JSON value with the values of secret-named keys masked (strings, numbers and
   * lists of them; an object under a secret key is walked, so `auth: { user, token }` keeps
   * `user`). Copy-on-write: returns `value` itself when nothing was masked. Bounded depth.
   */
  json(value: unknown, depth = 0): unknown {
    if (value === null || typeof value !== 'object' || depth > 64) return value;
    if (Array.isArray(value)) {
      let copy: unknown[] | undefined;
      for (let i = 0; i < value.length; i++) {
        const m = this.json(value[i], depth + 1);
        if (m !== value[i]) (copy ??= value.slice())[i] = m;
      }
      return copy ?? value;
    }
    const obj = value as Record<string, unknown>;
    let copy: Record<string, unknown> | undefined;
    for (const k of Object.keys(obj)) {
      const v = obj[k];
      const m = this.has(k) && isSecretValue(v) ? REDACTED : this.json(v, depth + 1);
      if (m !== v) {
        copy ??= { ...obj };
        Object.defineProperty(copy, k, { value: m, enumerable: true, writable: true, configurable: true });
      }
    }
    return copy ?? value;
  }

  /**
   * A body that is text: JSON is masked key by key; `a=1&password=x` forms by name; other text
   * by `"name": value` / `name=value` pairs whose name is a secret.
   */
  text(body: string): string {
    const trimmed = body.trimStart();
    if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
      try {
        const parsed = JSON.parse(body) as unknown;
        const masked = this.json(parsed);
        return masked === parsed ? body : JSON.stringify(masked);
      } catch {
        // not JSON after all: masked as text below
      }
    }
    return body.replace(TEXT_PAIR_RE, (whole, quote: string, name: string, sep: string, value: string) =>
      this.has(name) ? `${quote}${name}${quote}${sep}${value.startsWith('"') ? JSON.stringify(REDACTED) : REDACTED}` : whole,
    );
  }
}

/** `"name": "value"`, `"name": 123`, `name=value` (form fields, cookie-like text). */
const TEXT_PAIR_RE = /(["']?)([A-Za-z0-9_.-]{1,128})\1(\s*[:=]\s*)("(?:[^"\\\r\n]|\\.)*"|[^\s,;&}\]"]+)/g;

function isSecretValue(v: unknown): boolean {
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'bigint') return true;
  return Array.isArray(v) && v.every((x) => typeof x === 'string' || typeof x === 'number');
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const shared = new Map<string, SecretNames>();

/** One SecretNames per distinct rule set (the rules come from a frozen config). */
export function secretNames(rules: SecretRules = {}): SecretNames {
  const key = JSON.stringify([rules.headers ?? null, rules.patterns ?? null]);
  let s = shared.get(key);
  if (s === undefined) {
    s = new SecretNames(rules);
    if (shared.size < 64) shared.set(key, s);
  }
  return s;
}
