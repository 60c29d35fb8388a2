/**
 * Named upstreams: the services a config moves traffic between. `upstreams:` maps a name to a
 * URL (or to `{ url, connections, timeoutMs, legacyReplica }`); every route names its legacy
 * side and its V2 side, by default the upstreams called `legacy` and `v2`, so a config with one
 * legacy and one V2 reads exactly as before. The top-level `upstreams.legacyReplica` is the
 * noise replica of the upstream called `legacy`.
 */
import { z } from 'zod';
import { DEFAULT_LEGACY_UPSTREAM, DEFAULT_V2_UPSTREAM, routeSides } from './upstream-routes.js';

export { DEFAULT_LEGACY_UPSTREAM, DEFAULT_V2_UPSTREAM, routeSides } from './upstream-routes.js';

/** Upstream names go into metric labels, logs and CLI flags: a DNS-label-like word. */
export const UPSTREAM_NAME = /^[a-z][a-z0-9_-]{0,62}$/;
export const UPSTREAM_NAME_RULE = 'must be 1 to 63 lower-case letters, digits, _ or - starting with a letter';
/** Keys of `upstreams:` that are not upstreams. */
export const RESERVED_UPSTREAM_KEYS = ['legacyReplica'] as const;

export const httpUrl = z.string({ message: 'must be an http:// or https:// URL' }).refine((s) => /^https?:\/\/[^\s/]+(:\d+)?(\/.*)?$/.test(s), {
  message: 'must be an http:// or https:// URL',
});

export const upstreamObjectSchema = z.strictObject({
  url: httpUrl,
  /** Keep-alive connections to this upstream (default: limits.upstreamConnections). */
  connections: z.number({ message: 'must be a number' }).int({ message: 'must be a whole number' }).min(2, { message: 'must be at least 2' }).max(4096, { message: 'must be at most 4096' }).optional(),
  /** The longest any call to this upstream may take; a route's longer timeoutMs is cut to it. */
  timeoutMs: z.number({ message: 'must be a number' }).int({ message: 'must be a whole number' }).min(1, { message: 'must be at least 1' }).max(2_147_483_647, { message: 'must be at most 2147483647' }).optional(),
  /** A second instance of this (legacy-side) upstream, asked for a sample of copies to measure noise. */
  legacyReplica: httpUrl.optional(),
});

export const upstreamEntrySchema = z.union([httpUrl, upstreamObjectSchema], { message: 'must be a URL or { url, connections, timeoutMs, legacyReplica }' });

export const upstreamsSchema = z.object({ legacyReplica: httpUrl.optional() }).catchall(upstreamEntrySchema);

export const upstreamRefSchema = z
  .string({ message: 'must be a string naming an upstream' })
  .regex(UPSTREAM_NAME, { message: `must name an upstream: ${UPSTREAM_NAME_RULE}` });

export type UpstreamsConfig = z.infer<typeof upstreamsSchema>;
type UpstreamEntry = z.infer<typeof upstreamEntrySchema>;

/** One named upstream, resolved. `index` is its place in config order, stable for the process. */
export interface UpstreamSpec {
  readonly name: string;
  readonly index: number;
  readonly url: string;
  readonly origin: string;
  readonly host: string;
  readonly connections?: number;
  readonly timeoutMs?: number;
  readonly legacyReplica?: string;
}


const resolved = new WeakMap<object, readonly UpstreamSpec[]>();

/** Every named upstream of a (validated) config, in config order. */
export function upstreamSpecs(config: { upstreams: UpstreamsConfig }): readonly UpstreamSpec[] {
  const cached = resolved.get(config.upstreams);
  if (cached) return cached;
  const out: UpstreamSpec[] = [];
  for (const [name, entry] of Object.entries(config.upstreams)) {
    if ((RESERVED_UPSTREAM_KEYS as readonly string[]).includes(name) || entry === undefined) continue;
    const e: Exclude<UpstreamEntry, string> = typeof entry === 'string' ? { url: entry } : entry;
    const u = new URL(e.url);
    const replica = legacyReplicaOf(config.upstreams, name);
    out.push(
      Object.freeze({
        name,
        index: out.length,
        url: e.url,
        origin: u.origin,
        host: u.host,
        ...(e.connections !== undefined ? { connections: e.connections } : {}),
        ...(e.timeoutMs !== undefined ? { timeoutMs: e.timeoutMs } : {}),
        ...(replica !== undefined ? { legacyReplica: replica } : {}),
      }),
    );
  }
  Object.freeze(out);
  if (Object.isFrozen(config.upstreams)) resolved.set(config.upstreams, out);
  return out;
}

/** The noise replica of the upstream called `name` (its own `legacyReplica`, or the top-level one for `legacy`). */
export function legacyReplicaOf(upstreams: UpstreamsConfig, name: string): string | undefined {
  const e = upstreams[name];
  const own = e && typeof e === 'object' ? e.legacyReplica : undefined;
  return own ?? (name === DEFAULT_LEGACY_UPSTREAM ? upstreams.legacyReplica : undefined);
}

/** The upstream called `name`, or undefined. */
export function upstreamNamed(config: { upstreams: UpstreamsConfig }, name: string): UpstreamSpec | undefined {
  return upstreamSpecs(config).find((u) => u.name === name);
}


/** A route's two sides resolved to upstreams (the config was validated, so both exist). */
export function routeUpstreams(config: { upstreams: UpstreamsConfig }, route: { legacy?: string; v2?: string }): { legacy: UpstreamSpec; v2: UpstreamSpec } {
  const s = routeSides(route);
  const legacy = upstreamNamed(config, s.legacy);
  const v2 = upstreamNamed(config, s.v2);
  if (!legacy || !v2) throw new Error(`route names an upstream the config does not define (${!legacy ? s.legacy : s.v2})`);
  return { legacy, v2 };
}

type Issue = { path: PropertyKey[]; message: string };

/**
 * Rules across `upstreams:` and the routes: names are labels, every side a route names exists,
 * and a route's two sides are different services (by name and by URL).
 */
export function upstreamRules(
  upstreams: unknown,
  routes: ReadonlyArray<readonly [{ legacy?: unknown; v2?: unknown }, ReadonlyArray<PropertyKey>]>,
): Issue[] {
  const issues: Issue[] = [];
  if (upstreams === null || typeof upstreams !== 'object' || Array.isArray(upstreams)) return issues;
  const urls = new Map<string, string>();
  for (const [name, entry] of Object.entries(upstreams as Record<string, unknown>)) {
    if ((RESERVED_UPSTREAM_KEYS as readonly string[]).includes(name)) continue;
    if (!UPSTREAM_NAME.test(name)) issues.push({ path: ['upstreams', name], message: `is not a valid upstream name: ${UPSTREAM_NAME_RULE}` });
    const url = typeof entry === 'string' ? entry : entry && typeof entry === 'object' ? (entry as { url?: unknown }).url : undefined;
    if (typeof url === 'string') urls.set(name, normalizeOrigin(url));
  }
  const names = Object.keys(upstreams as object).filter((k) => !(RESERVED_UPSTREAM_KEYS as readonly string[]).includes(k));
  const known = names.length ? names.join(', ') : 'none';
  const replica = (upstreams as Record<string, unknown>).legacyReplica;
  if (replica !== undefined && !names.includes(DEFAULT_LEGACY_UPSTREAM)) {
    issues.push({ path: ['upstreams', 'legacyReplica'], message: `is the replica of the upstream called "legacy", which upstreams does not define (write legacyReplica inside the legacy-side upstream instead)` });
  }
  for (const [route, at] of routes) {
    const sides: Array<['legacy' | 'v2', unknown]> = [
      ['legacy', route.legacy ?? DEFAULT_LEGACY_UPSTREAM],
      ['v2', route.v2 ?? DEFAULT_V2_UPSTREAM],
    ];
    let bad = false;
    for (const [side, name] of sides) {
      if (typeof name !== 'string' || !UPSTREAM_NAME.test(name)) continue; // its own rule says so
      if (!names.includes(name)) {
        bad = true;
        const defaulted = route[side] === undefined;
        issues.push({
          path: defaulted ? [...at] : [...at, side],
          message: defaulted
            ? `sends its ${side} side to upstream "${name}" by default, which upstreams does not define (name one with ${side}: NAME; defined: ${known})`
            : `names upstream "${name}", which upstreams does not define (defined: ${known})`,
        });
      }
    }
    if (bad) continue;
    const l = String(sides[0][1]);
    const v = String(sides[1][1]);
    if (l === v) {
      issues.push({ path: [...at, 'v2'], message: `names the same upstream as its legacy side ("${l}"); a route moves between two services` });
    } else if (urls.has(l) && urls.get(l) === urls.get(v)) {
      issues.push({ path: [...at, 'v2'], message: `upstream "${v}" has the same URL as its legacy side "${l}" (${urls.get(l)}); a route moves between two services` });
    }
  }
  return issues;
}

/** The proxy calls an upstream's origin (scheme, host, port): two URLs with one origin are one service. */
function normalizeOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return url;
  }
}
