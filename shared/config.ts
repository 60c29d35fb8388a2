/**
 * `cutover.yaml`: one schema, validated once at start, then deep-frozen.
 * Errors name the field path and the rule (`routes[2].weight: must be between 0 and 100`).
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { InputError } from './errors.js';
import { DEFAULT_REDACT_HEADERS, DEFAULT_SECRET_PATTERNS } from './secrets.js';
import { storeUrlProblem } from './store-url.js';
import { DEFAULT_LEGACY_UPSTREAM, httpUrl, legacyReplicaOf, upstreamRefSchema, upstreamRules, upstreamsSchema } from './upstreams.js';
import { formatPath, isUnder, issueLine } from './validation.js';

export { formatPath };

export const CONFIG_ERR = 'CUTOVER_ERR_CONFIG';

export const MODES = ['legacy', 'mirror', 'canary', 'v2'] as const;
export type Mode = (typeof MODES)[number];
export const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
export const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export const DEFAULT_LISTEN_DATA = '0.0.0.0:8080';
export const DEFAULT_LISTEN_ADMIN = '127.0.0.1:8081';
export const DEFAULT_STATE_URL = 'file://.cutover/state.json';
export const DEFAULT_MAX_BODY_BYTES = 1_048_576;
/** Units of epoch numbers a `compare.timestamp` entry may name. */
export const EPOCH_UNITS = ['s', 'ms', 'us', 'ns'] as const;
export type EpochUnit = (typeof EPOCH_UNITS)[number];
/** Admin paths that answer without the token even when one is configured (`adminOpen`). */
export const ADMIN_OPEN_PATHS = ['/healthz', '/readyz', '/metrics'] as const;
export { DEFAULT_REDACT_HEADERS, DEFAULT_SECRET_PATTERNS } from './secrets.js';
export const DEFAULT_SHADOW_LISTEN = '0.0.0.0:8090';
export const DEFAULT_COPY_HEADER = 'x-cutover-mirror';


const hostPort = z.string().refine((s) => /^(\[[0-9a-fA-F:]+\]|[^\s:]+):\d{1,5}$/.test(s) && Number(s.split(':').pop()) <= 65535, {
  message: 'must be HOST:PORT (for example 127.0.0.1:8081)',
});

/** The longest delay a Node timer takes (about 24.8 days); a longer one fires at once. */
export const MAX_TIMER_MS = 2_147_483_647;
/** The most verifier worker threads: twice the cores of this machine. */
export const MAX_VERIFIER_WORKERS = availableParallelism() * 2;

const int = (min: number, max: number, what = '') =>
  z
    .number({ message: 'must be a number' })
    .int({ message: 'must be a whole number' })
    .min(min, { message: `must be at least ${min}` })
    .max(max, { message: `must be at most ${max}${what}` });
const timerMs = int(1, MAX_TIMER_MS, ' (about 24.8 days, the longest timer)');

const weight = z
  .number({ message: 'must be a number' })
  .min(0, { message: 'must be between 0 and 100' })
  .max(100, { message: 'must be between 0 and 100' })
  .refine((n) => Math.abs(n * 100 - Math.round(n * 100)) < 1e-9, { message: 'must have at most two decimals' });

const percent = z
  .number({ message: 'must be a number' })
  .min(0, { message: 'must be between 0 and 100' })
  .max(100, { message: 'must be between 0 and 100' });

const stickyBy = z
  .string({ message: 'must be a string' })
  .refine((s) => s === 'none' || /^(param|header|cookie):[A-Za-z0-9_.-]+$/.test(s), {
    message: 'must be param:NAME, header:NAME, cookie:NAME or none',
  });

const jsonPointer = z.string().refine((s) => s === '' || s.startsWith('/'), { message: 'must be a JSON Pointer starting with /' });

const pathPattern = z
  .string()
  .refine((s) => s.startsWith('/') && !s.includes('..') && !/\s/.test(s), {
    message: 'must start with / and contain no spaces or ".."',
  });

export const compareSchema = z.strictObject({
  ignore: z.array(jsonPointer).default([]),
  decimal: z.array(jsonPointer).default([]),
  /**
   * Pointers whose values are instants (ISO 8601 or epoch numbers). A plain pointer reads
   * numbers as epoch milliseconds; `{ path: /created, epoch: s }` says the unit (s, ms, us, ns).
   */
  timestamp: z
    .array(
      z.union([jsonPointer, z.strictObject({ path: jsonPointer, epoch: z.enum(EPOCH_UNITS, { message: `must be one of ${EPOCH_UNITS.join(', ')}` }) })], {
        message: 'must be a JSON Pointer or { path: POINTER, epoch: s|ms|us|ns }',
      }),
    )
    .default([]),
  unorderedArrays: z.record(jsonPointer, z.string().min(1, { message: 'must name the key field' })).default({}),
  tolerance: z
    .record(
      jsonPointer,
      z.union([
        z.number().nonnegative(),
        z.strictObject({ abs: z.number().nonnegative(), reason: z.string().min(1) }),
      ]),
    )
    .default({}),
  headers: z.array(z.string().min(1)).default(['content-type']),
});

export const mirrorSchema = z.strictObject({
  sample: percent.default(100),
  maxInFlight: int(1, 100_000).default(256),
  timeoutMs: timerMs.default(2000),
  maxRequestBodyBytes: int(0, 64 * 1_048_576).default(65_536),
  /** Suspend copies for a while after this many in a row got no answer from V2 (0: never). */
  suspendAfterFailures: int(0, 1_000_000).default(20),
});

/** Data-plane limits against slow or hostile clients and for what the proxy holds in memory (docs/data-plane.md). */
export const limitsSchema = z.strictObject({
  /** Keep-alive connections per upstream pool. */
  upstreamConnections: z.number().int().min(2).max(4096).default(128),
  /** A request body that makes no progress for this long gets 408 and frees its upstream connection. */
  bodyIdleTimeoutMs: z.number().int().min(100).max(600_000).default(15_000),
  /** Share of an upstream's connections that streamed uploads may hold at once (the rest stay for other requests). */
  uploadShare: z.number().gt(0, { message: 'must be more than 0' }).max(1, { message: 'must be at most 1' }).default(0.25),
  /**
   * Request bodies up to this size are read whole before an upstream connection is taken (a slow
   * client then holds none); larger ones are streamed and take an upload place.
   */
  bufferBodyBytes: z.number().int().min(0).max(16 * 1_048_576).default(65_536),
  /** Request header fields allowed; more gets 431. */
  maxHeaders: z.number().int().min(8).max(4096).default(256),
  /** Bytes of captured mirror bodies, in flight and waiting for the verifier, for the whole proxy; past it pairs are dropped and counted. */
  mirrorCaptureBytes: z.number().int().min(1_048_576).max(4096 * 1_048_576).default(16 * 1_048_576),
});

const targetSchema = z.strictObject({
  v2: z
    .strictObject({
      header: z.record(z.string(), z.array(z.string())).default({}),
      param: z.record(z.string(), z.array(z.string())).default({}),
      cookie: z.record(z.string(), z.array(z.string())).default({}),
    })
    .default({ header: {}, param: {}, cookie: {} }),
});

const routeCommon = {
  /** The upstream that serves this route's legacy side (default: the one called legacy). */
  legacy: upstreamRefSchema.optional(),
  /** The upstream that serves this route's V2 side (default: the one called v2). */
  v2: upstreamRefSchema.optional(),
  mode: z.enum(MODES, { message: `must be one of ${MODES.join(', ')}` }).default('legacy'),
  weight: weight.default(0),
  stickyBy: stickyBy.default('none'),
  target: targetSchema.optional(),
  mirror: mirrorSchema.default(mirrorSchema.parse({})),
  mirrorUnsafe: z.boolean().default(false),
  fallbackToLegacy: z.boolean().default(false),
  timeoutMs: timerMs.default(30_000),
  compare: compareSchema.default(compareSchema.parse({})),
  maxBodyBytes: int(1, 1024 * 1_048_576).default(DEFAULT_MAX_BODY_BYTES),
};

/** `cutover shadow`: the target for requests mirrored by another data plane (shadow/). */
export const shadowSchema = z.strictObject({
  listen: hostPort.default(DEFAULT_SHADOW_LISTEN),
  /** Which legacy the shadow calls: `replica` (upstreams.legacyReplica; the default when set) or `primary` (upstreams.legacy). */
  legacy: z.enum(['replica', 'primary'], { message: 'must be replica or primary' }).optional(),
  /** The header the mirroring side adds to mark a copy; never forwarded. */
  copyHeader: z
    .string()
    .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, { message: 'must be an HTTP header name' })
    .default(DEFAULT_COPY_HEADER),
  /** Refuse (403) requests that carry neither the copy header nor Envoy's `-shadow` Host suffix. */
  requireCopyMark: z.boolean().default(false),
  /** Pairs (legacy call + V2 call) in progress at once. */
  maxConcurrent: z.number().int().positive().default(256),
  /** Mirrored requests waiting for a free place; beyond it they are dropped and counted. */
  queueSize: z.number().int().nonnegative().default(2048),
});

const routeName = z
  .string({ message: 'must be a string' })
  .regex(/^[A-Za-z0-9_.-]{1,100}$/, { message: 'must be 1 to 100 letters, digits, _ . or -' });

export const routeSchema = z.strictObject({
  name: routeName,
  match: z.strictObject({
    method: z.enum(METHODS, { message: `must be one of ${METHODS.join(', ')}` }),
    path: pathPattern,
  }),
  ...routeCommon,
});

export const defaultRouteSchema = z.strictObject({ name: routeName.default('default'), ...routeCommon });

export const configSchema = z
  .strictObject({
    upstreams: upstreamsSchema,
    listen: z
      .strictObject({ data: hostPort.default(DEFAULT_LISTEN_DATA), admin: hostPort.default(DEFAULT_LISTEN_ADMIN) })
      .default({ data: DEFAULT_LISTEN_DATA, admin: DEFAULT_LISTEN_ADMIN }),
    state: z
      .string({ message: 'must be a string' })
      .superRefine((s, ctx) => {
        const problem = storeUrlProblem(s);
        if (problem) ctx.addIssue({ code: 'custom', message: `${problem} (use file://PATH, redis://HOST:PORT/DB or redis+sentinel://HOST:PORT,HOST:PORT/MASTERNAME/DB)` });
      })
      .default(DEFAULT_STATE_URL),
    adminToken: z
      .string({ message: 'must be a string' })
      .min(16, { message: 'must be at least 16 characters' })
      .max(4096, { message: 'must be at most 4096 characters' })
      .optional(),
    replicaId: z
      .string({ message: 'must be a string' })
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$/, { message: 'must be 1 to 128 letters, digits, _ . : @ or - (starting with a letter or digit)' })
      .optional(),
    /** Which of /healthz, /readyz, /metrics answer without the admin token ([] locks them too). */
    adminOpen: z.array(z.enum(ADMIN_OPEN_PATHS, { message: `must be one of ${ADMIN_OPEN_PATHS.join(', ')}` })).default([...ADMIN_OPEN_PATHS]),
    /** This replica's own folder for its last applied state and a break-glass abort (docs/break-glass.md). */
    localState: z.string().min(1).optional(),
    /** Where `cutover abort` finds the replicas' admin planes when the store cannot be written. */
    breakGlass: z
      .strictObject({
        admins: z.array(httpUrl).default([]),
        /** HOST:PORT whose every DNS address is a replica's admin plane (a headless service). */
        adminDns: z.string().regex(/^[^\s:/]+:\d{1,5}$/, { message: 'must be HOST:PORT (a name whose every address is a replica admin plane)' }).optional(),
      })
      .optional(),
    routes: z.array(routeSchema).default([]),
    defaultRoute: defaultRouteSchema.default(defaultRouteSchema.parse({})),
    verifier: z
      .strictObject({
        queueSize: int(1, 1_000_000).default(10_000),
        /** Bytes of bodies the verifier may hold waiting or being diffed (pairs carry up to maxBodyBytes a side). */
        queueBytes: int(1, 16 * 1024 * 1_048_576).default(64 * 1_048_576),
        workers: int(0, MAX_VERIFIER_WORKERS, ` (twice the ${availableParallelism()} cores of this machine)`).default(1),
        diffDir: z.string({ message: 'must be a string' }).min(1, { message: 'must name a folder' }).optional(),
        diffFileMaxBytes: int(1, 64 * 1024 * 1_048_576).default(50 * 1_048_576),
        diffFileMaxFiles: int(1, 10_000).default(5),
        examplesPerPath: int(1, 1000).default(5),
        maxPaths: int(1, 1_000_000).default(500),
        noise: z
          .strictObject({
            replicaSample: percent.default(10),
            relative: z.number().nonnegative().default(0.2),
            absolute: z.number().nonnegative().default(0.0003),
          })
          .default({ replicaSample: 10, relative: 0.2, absolute: 0.0003 }),
      })
      .default({
        queueSize: 10_000,
        queueBytes: 64 * 1_048_576,
        workers: 1,
        diffFileMaxBytes: 50 * 1_048_576,
        diffFileMaxFiles: 5,
        examplesPerPath: 5,
        maxPaths: 500,
        noise: { replicaSample: 10, relative: 0.2, absolute: 0.0003 },
      }),
    redact: z
      .strictObject({
        /** Exact names of headers, query parameters and JSON keys whose values are masked. */
        headers: z.array(z.string().min(1)).default(DEFAULT_REDACT_HEADERS),
        /** Name fragments that make a header, query parameter or JSON key a secret (docs/secrets.md). */
        patterns: z.array(z.string().min(1).max(64)).max(100).default(DEFAULT_SECRET_PATTERNS),
        paths: z.array(jsonPointer).default([]),
      })
      .default({ headers: DEFAULT_REDACT_HEADERS, patterns: DEFAULT_SECRET_PATTERNS, paths: [] }),
    record: z
      .strictObject({ file: z.string({ message: 'must be a string' }).min(1, { message: 'must name a file' }), sample: percent.default(100) })
      .optional(),
    shadow: shadowSchema.default(shadowSchema.parse({})),
    stats: z
      .strictObject({ windowSeconds: z.number().int().min(10).max(3600).default(300) })
      .default({ windowSeconds: 300 }),
    limits: limitsSchema.default(limitsSchema.parse({})),
  })
  .superRefine((cfg, ctx) => {
    crossFieldRules(
      { routes: cfg.routes.map((r, i) => [r, i] as const), defaultRoute: cfg.defaultRoute, listen: cfg.listen, shadow: cfg.shadow, legacyReplica: legacyReplicaOf(cfg.upstreams, DEFAULT_LEGACY_UPSTREAM) },
      ctx,
    );
    for (const issue of upstreamRules(cfg.upstreams, [...cfg.routes.map((r, i) => [r, ['routes', i]] as const), [cfg.defaultRoute, ['defaultRoute']] as const])) {
      ctx.addIssue({ code: 'custom', ...issue });
    }
  });

type RouteParts = Pick<RouteConfig, 'name'> & Partial<Pick<RouteConfig, 'match' | 'stickyBy' | 'target'>>;

interface CrossFieldInput {
  /** Each route's parts that passed their own rules, with its index in the file. */
  routes: ReadonlyArray<readonly [RouteParts, number]>;
  defaultRoute?: DefaultRouteConfig;
  listen?: { data: string; admin: string };
  shadow?: { listen: string; legacy?: string };
  legacyReplica?: string;
}

/** Rules across fields (names unique, params that exist, ports apart), on whatever parts passed their own rules. */
function crossFieldRules(cfg: CrossFieldInput, ctx: Ctx): void {
  const seen = new Map<string, number>();
  const defaultName = cfg.defaultRoute?.name ?? 'default';
  for (const [r, i] of cfg.routes) {
    const prev = seen.get(r.name);
    if (prev !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['routes', i, 'name'], message: `duplicates routes[${prev}].name "${r.name}"` });
    }
    seen.set(r.name, i);
    if (r.name === defaultName) {
      ctx.addIssue({ code: 'custom', path: ['routes', i, 'name'], message: `"${r.name}" is reserved for the default route` });
    }
    const sticky = r.stickyBy ?? 'none';
    if (!r.match) continue;
    if (sticky.startsWith('param:') && !r.match.path.split('/').includes(`:${sticky.slice(6)}`)) {
      ctx.addIssue({
        code: 'custom',
        path: ['routes', i, 'stickyBy'],
        message: `names param "${sticky.slice(6)}" but match.path ${r.match.path} has no :${sticky.slice(6)}`,
      });
    }
    proxyRouteRules(r as RouteParts & Pick<RouteConfig, 'match'>, i, ctx);
  }
  proxyRules(cfg, ctx);
}

type Ctx = z.core.$RefinementCtx;
const PROXY_OWNED = ['x-cutover-upstream', 'x-cutover-shadow'];

/** Route rules the proxy relies on (params it reads exist, once; clients cannot pick a side). */
function proxyRouteRules(r: RouteParts & Pick<RouteConfig, 'match'>, i: number, ctx: Ctx): void {
  const params = r.match.path.split('/').filter((s) => s.startsWith(':')).map((s) => s.slice(1));
  const dup = params.find((p, k) => params.indexOf(p) !== k);
  if (dup !== undefined) ctx.addIssue({ code: 'custom', path: ['routes', i, 'match', 'path'], message: `names param :${dup} twice` });
  const t = r.target?.v2;
  for (const name of Object.keys(t?.param ?? {})) {
    if (!params.includes(name)) {
      ctx.addIssue({ code: 'custom', path: ['routes', i, 'target', 'v2', 'param', name], message: `match.path ${r.match.path} has no :${name}` });
    }
  }
  for (const name of Object.keys(t?.header ?? {})) {
    if (PROXY_OWNED.includes(name.toLowerCase())) {
      ctx.addIssue({ code: 'custom', path: ['routes', i, 'target', 'v2', 'header', name], message: 'is set by the proxy; clients cannot pick a side' });
    }
  }
}

function proxyRules(cfg: CrossFieldInput, ctx: Ctx): void {
  const port = (hp: string) => hp.slice(hp.lastIndexOf(':') + 1);
  if (cfg.listen && port(cfg.listen.data) !== '0' && port(cfg.listen.data) === port(cfg.listen.admin)) {
    ctx.addIssue({ code: 'custom', path: ['listen', 'admin'], message: `uses the same port as listen.data (${cfg.listen.data}); the admin plane needs its own port` });
  }
  if (cfg.shadow && cfg.listen && port(cfg.shadow.listen) !== '0' && port(cfg.shadow.listen) === port(cfg.listen.admin)) {
    ctx.addIssue({ code: 'custom', path: ['shadow', 'listen'], message: `uses the same port as listen.admin (${cfg.listen.admin}); the admin plane needs its own port` });
  }
  if (cfg.shadow?.legacy === 'replica' && !cfg.legacyReplica) {
    ctx.addIssue({ code: 'custom', path: ['shadow', 'legacy'], message: 'is replica but upstreams.legacyReplica is not set' });
  }
  if (!cfg.defaultRoute) return;
  if (cfg.defaultRoute.stickyBy.startsWith('param:')) {
    ctx.addIssue({ code: 'custom', path: ['defaultRoute', 'stickyBy'], message: 'the default route has no path params: use header:NAME, cookie:NAME or none' });
  }
  if (Object.keys(cfg.defaultRoute.target?.v2.param ?? {}).length > 0) {
    ctx.addIssue({ code: 'custom', path: ['defaultRoute', 'target', 'v2', 'param'], message: 'the default route has no path params to target' });
  }
}

export type CutoverConfig = z.infer<typeof configSchema>;
export type RouteConfig = z.infer<typeof routeSchema>;
export type DefaultRouteConfig = z.infer<typeof defaultRouteSchema>;
export type CompareRules = z.infer<typeof compareSchema>;
export type ShadowConfig = z.infer<typeof shadowSchema>;

/** Replace `${NAME}` and `${NAME:-default}` from the environment; an unset name without default is an error. */
export function substituteEnv(text: string, env: NodeJS.ProcessEnv = process.env, source = 'config'): string {
  return text.replace(ENV_REF, (_m, name: string, _d, fallback: string | undefined) => {
    const v = env[name];
    if (v !== undefined && v !== '') return v;
    if (fallback !== undefined) return fallback;
    throw new InputError(CONFIG_ERR, source, `\${${name}} is not set in the environment (set it, or write \${${name}:-default})`);
  });
}

const ENV_REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}/g;
const UNSET_MARK = '\u2063cutover-unset-env:';
const UNSET_RE = /\u2063cutover-unset-env:([A-Za-z_][A-Za-z0-9_]*)\u2063/;

/** Like substituteEnv, but an unset name leaves a marker, so that the field that holds it can be named. */
function substituteEnvMarked(text: string, env: NodeJS.ProcessEnv): string {
  return text.replace(ENV_REF, (_m, name: string, _d, fallback: string | undefined) => {
    const v = env[name];
    if (v !== undefined && v !== '') return v;
    if (fallback !== undefined) return fallback;
    return `${UNSET_MARK}${name}\u2063`;
  });
}

/** Every string holding an unset-variable marker, with its path. */
function unsetEnvFields(raw: unknown, path: PropertyKey[] = [], out: Array<{ path: PropertyKey[]; name: string; whole: boolean }> = []) {
  if (typeof raw === 'string') {
    const m = UNSET_RE.exec(raw);
    if (m) out.push({ path, name: m[1]!, whole: raw === m[0] });
  } else if (Array.isArray(raw)) {
    raw.forEach((v, i) => unsetEnvFields(v, [...path, i], out));
  } else if (raw !== null && typeof raw === 'object' && path.length < 32) {
    for (const k of Object.keys(raw)) unsetEnvFields((raw as Record<string, unknown>)[k], [...path, k], out);
  }
  return out;
}

/** Configs whose `adminToken: ${NAME}` named an unset variable: NAME, for whoever needs the token (proxy/auth.ts). */
const unsetAdminTokenVar = new WeakMap<object, string>();

/**
 * The variable `adminToken` named in the config when it was unset (the token is then absent):
 * the proxy refuses to start without it; verbs that do not need the token work (docs/secrets.md).
 */
export function adminTokenUnsetVar(config: object): string | undefined {
  return unsetAdminTokenVar.get(config);
}

export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}

/** Validate an already-parsed object. Throws an InputError naming every failing field, all in one pass. */
export function validateConfig(raw: unknown, source = 'config'): Readonly<CutoverConfig> {
  return checkConfig(raw ?? {}, source, []);
}

/** `earlier`: problems already found (unset variables), reported with the rest; issues under their paths are not repeated. */
function checkConfig(raw: unknown, source: string, earlier: Array<{ path: PropertyKey[]; line: string }>): Readonly<CutoverConfig> {
  const result = configSchema.safeParse(raw);
  if (result.success && earlier.length === 0) return deepFreeze(result.data);
  const issues = result.success ? [] : [...result.error.issues];
  // zod skips the cross-field rules when a field failed: run them on the parts that passed, so one
  // pass finds everything (lines they share with zod's own run are dropped below).
  if (!result.success) issues.push(...crossFieldIssues(raw));
  const lines = [
    ...earlier.map((e) => e.line),
    ...issues.filter((i) => !earlier.some((e) => isUnder(i.path, e.path))).map((i) => issueLine(i, raw)),
  ];
  throw new InputError(CONFIG_ERR, '', `${source} is invalid:\n  ${[...new Set(lines)].join('\n  ')}`, { cause: result.success ? undefined : result.error });
}

/** The cross-field rules over the routes, default route and listen addresses that pass their own rules. */
function crossFieldIssues(raw: unknown): z.core.$ZodIssue[] {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return [];
  const r = raw as Record<string, unknown>;
  const routes: Array<readonly [RouteParts, number]> = [];
  if (Array.isArray(r.routes)) {
    r.routes.forEach((route: unknown, i) => {
      if (route === null || typeof route !== 'object') return;
      const f = route as Record<string, unknown>;
      const name = routeName.safeParse(f.name);
      if (!name.success) return;
      const parts: RouteParts = { name: name.data };
      const match = routeSchema.shape.match.safeParse(f.match);
      if (match.success) parts.match = match.data;
      const sticky = stickyBy.default('none').safeParse(f.stickyBy);
      const target = targetSchema.optional().safeParse(f.target);
      if (!sticky.success || !target.success) return;
      parts.stickyBy = sticky.data;
      if (target.data) parts.target = target.data;
      routes.push([parts, i] as const);
    });
  }
  const dr = defaultRouteSchema.safeParse(r.defaultRoute ?? {});
  const listenSchema = configSchema.shape.listen;
  const ls = listenSchema.safeParse(r.listen);
  const issues: z.core.$ZodIssue[] = [];
  const ctx = { addIssue: (i: { code: 'custom'; path: PropertyKey[]; message: string }) => issues.push(i as unknown as z.core.$ZodIssue) } as unknown as Ctx;
  crossFieldRules({ routes, defaultRoute: dr.success ? dr.data : undefined, listen: ls.success ? ls.data : undefined }, ctx);
  const sides = (v: unknown) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as { legacy?: unknown; v2?: unknown }) : {});
  const routeSidesRaw: Array<readonly [{ legacy?: unknown; v2?: unknown }, PropertyKey[]]> = Array.isArray(r.routes) ? r.routes.map((x: unknown, i) => [sides(x), ['routes', i]] as const) : [];
  routeSidesRaw.push([sides(r.defaultRoute), ['defaultRoute']]);
  for (const issue of upstreamRules(r.upstreams, routeSidesRaw)) ctx.addIssue({ code: 'custom', ...issue });
  return issues;
}

export function parseConfigText(text: string, source = 'config', env: NodeJS.ProcessEnv = process.env): Readonly<CutoverConfig> {
  const substituted = substituteEnvMarked(text, env);
  let raw: unknown;
  try {
    raw = parseYaml(substituted);
  } catch (err) {
    throw new InputError(CONFIG_ERR, source, `is not valid YAML: ${(err as Error).message.replaceAll(UNSET_MARK, '$').replace(/\u2063/g, '')}`, { cause: err });
  }
  raw ??= {};
  const earlier: Array<{ path: PropertyKey[]; line: string }> = [];
  let deferredToken: string | undefined;
  for (const f of unsetEnvFields(raw)) {
    if (f.whole && f.path.length === 1 && f.path[0] === 'adminToken') {
      // Only the proxy needs the token: verbs that read the store must keep working without it.
      deferredToken = f.name;
      delete (raw as Record<string, unknown>).adminToken;
      continue;
    }
    earlier.push({ path: f.path, line: `${formatPath(f.path)}: \${${f.name}} is not set in the environment (set it, or write \${${f.name}:-default})` });
  }
  const config = checkConfig(raw, source, earlier);
  if (deferredToken !== undefined) unsetAdminTokenVar.set(config, deferredToken);
  return config;
}

export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): Readonly<CutoverConfig> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new InputError(CONFIG_ERR, '--config', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
      cause: err,
    });
  }
  return parseConfigText(decodeUtf8(bytes, file, CONFIG_ERR), file, env);
}

/** Text of a file that must be UTF-8: bytes that are not UTF-8 are an input error naming the line. */
export function decodeUtf8(bytes: Buffer, source: string, code: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const text = bytes.toString('utf8');
    const at = text.indexOf('\ufffd');
    const line = at < 0 ? 1 : text.slice(0, at).split('\n').length;
    throw new InputError(code, source, `is not valid UTF-8 text (line ${line}); save it as UTF-8`);
  }
}

/** The data-plane limits when a config (built in code) has none. */
export const DEFAULT_LIMITS: Readonly<z.infer<typeof limitsSchema>> = Object.freeze(limitsSchema.parse({}));
