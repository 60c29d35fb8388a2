/**
 * What the mirroring side tells us about a request (pure): whether it is marked as a copy (the
 * configured header, or the `-shadow` suffix Envoy's request_mirror_policies add to Host, which
 * Istio and Gateway API mirrors inherit), the Host it had before that suffix, and whether the
 * request is unsafe (its method, or a method-override header or `_method` parameter naming one).
 */
import { SAFE_METHODS } from '../shared/config.js';

type Headers = Readonly<Record<string, string | string[] | undefined>>;

const SHADOW_SUFFIX = '-shadow';

/**
 * The Host without Envoy's `-shadow` suffix, or undefined when it has none. Envoy appends it to
 * the whole authority (`api.example:8080-shadow`); newer versions put it before the port
 * (`api.example-shadow:8080`): both are understood.
 */
export function hostWithoutShadowSuffix(host: string | undefined): string | undefined {
  if (host === undefined) return undefined;
  if (host.endsWith(SHADOW_SUFFIX)) return host.slice(0, -SHADOW_SUFFIX.length);
  const colon = host.lastIndexOf(':');
  if (colon > 0 && host.indexOf(']', colon) === -1 && host.slice(0, colon).endsWith(SHADOW_SUFFIX)) {
    return host.slice(0, colon - SHADOW_SUFFIX.length) + host.slice(colon);
  }
  return undefined;
}

/** True when the request carries the copy header (any non-empty value) or Envoy's Host suffix. */
export function isMarkedCopy(headers: Headers, copyHeader: string): boolean {
  const v = headers[copyHeader];
  if (v !== undefined && v !== '') return true;
  const host = headers.host;
  return typeof host === 'string' && hostWithoutShadowSuffix(host) !== undefined;
}

const OVERRIDE_HEADERS = ['x-http-method-override', 'x-http-method', 'x-method-override'] as const;

function named(value: string | string[] | undefined): string | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  return v === undefined || v === '' ? undefined : v.trim().toUpperCase();
}

/**
 * The method a request means: an override header or a `_method` query parameter naming an
 * unsafe method wins over a safe request line (a GET that says "POST" is a POST to whoever
 * honours the override).
 */
export function effectiveMethod(method: string, url: string, headers: Headers): string {
  for (const h of OVERRIDE_HEADERS) {
    const m = named(headers[h]);
    if (m !== undefined && !SAFE_METHODS.has(m)) return m;
  }
  const q = url.indexOf('?');
  if (q !== -1 && url.indexOf('_method=', q) !== -1) {
    const m = named(new URLSearchParams(url.slice(q + 1)).get('_method') ?? undefined);
    if (m !== undefined && !SAFE_METHODS.has(m)) return m;
  }
  return method;
}
