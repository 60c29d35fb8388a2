/**
 * `cutover.yaml`: one schema, validated once at start, then deep-frozen.
 * Errors name the field path and the rule (`routes[2].weight: must be between 0 and 100`).
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { InputError } from './errors.js';

export const CONFIG_ERR = 'CUTOVER_ERR_CONFIG';

export const MODES = ['legacy', 'mirror', 'canary', 'v2'] as const;
export type Mode = (typeof MODES)[number];
export const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
export const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export const DEFAULT_LISTEN_DATA = '0.0.0.0:8080';
export const DEFAULT_LISTEN_ADMIN = '127.0.0.1:8081';
export const DEFAULT_STATE_URL = 'file://.cutover/state.json';
export const DEFAULT_MAX_BODY_BYTES = 1_048_576;
export const DEFAULT_REDACT_HEADERS = ['authorization', 'cookie', 'set-cookie', 'x-api-key'];

const httpUrl = z.string().refine((s) => /^https?:\/\/[^\s/]+(:\d+)?(\/.*)?$/.test(s), {
  message: 'must be an http:// or https:// URL',
});

const hostPort = z.string().refine((s) => /^(\[[0-9a-fA-F:]+\]|[^\s:]+):\d{1,5}$/.test(s) && Number(s.split(':').pop()) <= 65535, {
  message: 'must be HOST:PORT (for example 127.0.0.1:8081)',
});

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
  .string()
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
  timestamp: z.array(jsonPointer).default([]),
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
  maxInFlight: z.number().int().positive().default(256),
  timeoutMs: z.number().int().positive().default(2000),
  maxRequestBodyBytes: z.number().int().nonnegative().default(65_536),
  /** Suspend copies for a while after this many in a row got no answer from V2 (0: never). */
  suspendAfterFailures: z.number().int().nonnegative().default(20),
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
  mode: z.enum(MODES, { message: `must be one of ${MODES.join(', ')}` }).default('legacy'),
  weight: weight.default(0),
  stickyBy: stickyBy.default('none'),
  target: targetSchema.optional(),
  mirror: mirrorSchema.default(mirrorSchema.parse({})),
  mirrorUnsafe: z.boolean().default(false),
  fallbackToLegacy: z.boolean().default(false),
  timeoutMs: z.number().int().positive().default(30_000),
  compare: compareSchema.default(compareSchema.parse({})),
  maxBodyBytes: z.number().int().positive().default(DEFAULT_MAX_BODY_BYTES),
};

export const routeSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/, { message: 'must be letters, digits, _ . or -' }),
  match: z.strictObject({
    method: z.enum(METHODS, { message: `must be one of ${METHODS.join(', ')}` }),
    path: pathPattern,
  }),
  ...routeCommon,
});

export const defaultRouteSchema = z.strictObject({ name: z.string().default('default'), ...routeCommon });

export const configSchema = z
  .strictObject({
    upstreams: z.strictObject({
      legacy: httpUrl,
      v2: httpUrl,
      legacyReplica: httpUrl.optional(),
    }),
    listen: z
      .strictObject({ data: hostPort.default(DEFAULT_LISTEN_DATA), admin: hostPort.default(DEFAULT_LISTEN_ADMIN) })
      .default({ data: DEFAULT_LISTEN_DATA, admin: DEFAULT_LISTEN_ADMIN }),
    state: z
      .string()
      .refine((s) => /^(file|redis|rediss):\/\//.test(s), { message: 'must be a file://PATH or redis://HOST:PORT/DB URL' })
      .default(DEFAULT_STATE_URL),
    adminToken: z.string().min(16, { message: 'must be at least 16 characters' }).optional(),
    replicaId: z.string().min(1).optional(),
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
        queueSize: z.number().int().positive().default(10_000),
        /** Bytes of bodies the verifier may hold waiting or being diffed (pairs carry up to maxBodyBytes a side). */
        queueBytes: z.number().int().positive().default(64 * 1_048_576),
        workers: z.number().int().min(0).default(1),
        diffDir: z.string().optional(),
        diffFileMaxBytes: z.number().int().positive().default(50 * 1_048_576),
        diffFileMaxFiles: z.number().int().positive().default(5),
        examplesPerPath: z.number().int().positive().default(5),
        maxPaths: z.number().int().positive().default(500),
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
        headers: z.array(z.string().min(1)).default(DEFAULT_REDACT_HEADERS),
        paths: z.array(jsonPointer).default([]),
      })
      .default({ headers: DEFAULT_REDACT_HEADERS, paths: [] }),
    record: z
      .strictObject({ file: z.string().min(1), sample: percent.default(100) })
      .optional(),
    stats: z
      .strictObject({ windowSeconds: z.number().int().min(10).max(3600).default(300) })
      .default({ windowSeconds: 300 }),
  })
  .superRefine((cfg, ctx) => {
    const seen = new Map<string, number>();
    cfg.routes.forEach((r, i) => {
      const prev = seen.get(r.name);
      if (prev !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['routes', i, 'name'], message: `duplicates routes[${prev}].name "${r.name}"` });
      }
      seen.set(r.name, i);
      if (r.name === cfg.defaultRoute.name) {
        ctx.addIssue({ code: 'custom', path: ['routes', i, 'name'], message: `"${r.name}" is reserved for the default route` });
      }
      const sticky = r.stickyBy;
      if (sticky.startsWith('param:') && !r.match.path.split('/').includes(`:${sticky.slice(6)}`)) {
        ctx.addIssue({
          code: 'custom',
          path: ['routes', i, 'stickyBy'],
          message: `names param "${sticky.slice(6)}" but match.path ${r.match.path} has no :${sticky.slice(6)}`,
        });
      }
      proxyRouteRules(r, i, ctx);
    });
    proxyRules(cfg, ctx);
  });

type Ctx = z.core.$RefinementCtx;
const PROXY_OWNED = ['x-cutover-upstream', 'x-cutover-shadow'];

/** Route rules the proxy relies on (params it reads exist, once; clients cannot pick a side). */
function proxyRouteRules(r: z.infer<typeof routeSchema>, i: number, ctx: Ctx): void {
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

function proxyRules(cfg: { listen: { data: string; admin: string }; defaultRoute: { stickyBy: string; target?: { v2: { param: Record<string, unknown> } } } }, ctx: Ctx): void {
  const port = (hp: string) => hp.slice(hp.lastIndexOf(':') + 1);
  if (port(cfg.listen.data) !== '0' && port(cfg.listen.data) === port(cfg.listen.admin)) {
    ctx.addIssue({ code: 'custom', path: ['listen', 'admin'], message: `uses the same port as listen.data (${cfg.listen.data}); the admin plane needs its own port` });
  }
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

/** `routes[2].weight` from zod's path array. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out || '(root)';
}

/** Replace `${NAME}` and `${NAME:-default}` from the environment; an unset name without default is an error. */
export function substituteEnv(text: string, env: NodeJS.ProcessEnv = process.env, source = 'config'): string {
  return text.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}/g, (_m, name: string, _d, fallback: string | undefined) => {
    const v = env[name];
    if (v !== undefined && v !== '') return v;
    if (fallback !== undefined) return fallback;
    throw new InputError(CONFIG_ERR, source, `\${${name}} is not set in the environment (set it, or write \${${name}:-default})`);
  });
}

export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}

/** Validate an already-parsed object. Throws an InputError naming every failing field. */
export function validateConfig(raw: unknown, source = 'config'): Readonly<CutoverConfig> {
  const result = configSchema.safeParse(raw ?? {});
  if (!result.success) {
    const lines = result.error.issues.map((i) => {
      if (i.code === 'unrecognized_keys') {
        const at = formatPath(i.path);
        return `${at === '(root)' ? '' : at + '.'}${(i as { keys: string[] }).keys.join(', ')}: unknown key (check the spelling against the documented fields)`;
      }
      if (i.code === 'invalid_type' && (i as { input?: unknown }).input === undefined) {
        return `${formatPath(i.path)}: is required`;
      }
      return `${formatPath(i.path)}: ${i.message}`;
    });
    throw new InputError(CONFIG_ERR, '', `${source} is invalid:\n  ${lines.join('\n  ')}`, { cause: result.error });
  }
  return deepFreeze(result.data);
}

export function parseConfigText(text: string, source = 'config', env: NodeJS.ProcessEnv = process.env): Readonly<CutoverConfig> {
  const substituted = substituteEnv(text, env, source);
  let raw: unknown;
  try {
    raw = parseYaml(substituted);
  } catch (err) {
    throw new InputError(CONFIG_ERR, source, `is not valid YAML: ${(err as Error).message}`, { cause: err });
  }
  return validateConfig(raw, source);
}

export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): Readonly<CutoverConfig> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new InputError(CONFIG_ERR, '--config', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
      cause: err,
    });
  }
  return parseConfigText(text, file, env);
}
