/**
 * The plan file (`cutover run plan.yaml`): one zod schema, validated once, then frozen.
 * Errors name the path and the rule (`steps[2].weight: must be between 0 and 100`); unknown
 * keys are errors; a bad plan is an input error (exit 2) and changes nothing.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { deepFreeze, MAX_TIMER_MS, substituteEnv } from '../../shared/config.js';
import { issueLine } from '../../shared/validation.js';
import { DURATION_RULE, parseDuration } from './duration.js';
import { planError } from './errors.js';

export const DEFAULT_INTERVAL = '30s';
export const DEFAULT_MIN_REQUESTS = 200;
export const DEFAULT_FAILURE_LIMIT = 2;
export const DEFAULT_INCONCLUSIVE_LIMIT = 3;
export const DEFAULT_CRITICAL_MIN_REQUESTS = 20;
export const DEFAULT_LEASE_TTL = '15s';
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 2000;
export const DEFAULT_WEBHOOK_RETRIES = 2;
export const DEFAULT_JUDGMENT_ALPHA = 0.01;
export const DEFAULT_JUDGMENT_MIN_EFFECT = 0.3;

const duration = z
  .string({ message: DURATION_RULE })
  .refine((s) => parseDuration(s) !== undefined, { message: DURATION_RULE })
  .transform((s) => parseDuration(s) as number)
  // a longer timer fires at once (and a plan step of months is a typo)
  .refine((ms) => ms <= MAX_TIMER_MS, { message: 'must be at most 596h (about 24.8 days, the longest timer)' });

const positiveDuration = duration.refine((ms) => ms > 0, { message: 'must be longer than 0' });

const weight = z
  .number({ message: 'must be a number' })
  .min(0, { message: 'must be between 0 and 100' })
  .max(100, { message: 'must be between 0 and 100' })
  .refine((n) => Math.abs(n * 100 - Math.round(n * 100)) < 1e-9, { message: 'must have at most two decimals' });

const share = z
  .number({ message: 'must be a number' })
  .min(0, { message: 'must be a share between 0 and 1 (0.01 = 1 %)' })
  .max(1, { message: 'must be a share between 0 and 1 (0.01 = 1 %)' });

const positiveNumber = z.number({ message: 'must be a number' }).positive({ message: 'must be greater than 0' });
const ratio = z.number({ message: 'must be a number' }).min(1, { message: 'must be at least 1 (a ratio to legacy)' });
const count = (min: number) => z.number({ message: 'must be a whole number' }).int({ message: 'must be a whole number' }).min(min, { message: `must be at least ${min}` });

const httpUrl = z.string({ message: 'must be an http:// or https:// URL' }).refine((s) => /^https?:\/\/[^\s/]+(:\d+)?(\/\S*)?$/.test(s), {
  message: 'must be an http:// or https:// URL',
});

const routeName = z.string({ message: 'must be a route name' }).regex(/^[A-Za-z0-9_.-]+$/, { message: 'must be letters, digits, _ . or -' });
const routeList = z.array(routeName, { message: 'must be a list of route names' }).min(1, { message: 'must name at least one route' });

const upstreamName = z.string({ message: 'must be an upstream name' }).regex(/^[a-z][a-z0-9_-]{0,62}$/, { message: 'must be an upstream name (lower-case letters, digits, _ or -, starting with a letter)' });
/** Services by name: the step (or the plan) applies to the routes whose V2 side they are (resolved with cutover.yaml). */
const upstreamList = z.array(upstreamName, { message: 'must be a list of V2 upstream names' }).min(1, { message: 'must name at least one upstream' });

const latencyThreshold = z.strictObject({ max: positiveNumber.optional(), maxRatioToLegacy: ratio.optional() });

const thresholdShape = {
  errorRate: z.strictObject({ max: share.optional(), maxOverLegacy: share.optional() }).optional(),
  latencyP95Ms: latencyThreshold.optional(),
  latencyP99Ms: latencyThreshold.optional(),
  throttleRate: z.strictObject({ max: share }).optional(),
  /**
   * `max` over compared pairs only; `minComparedShare` (default 0.9): under this share of the
   * window's verified pairs compared (the rest too large, undecodable, cut short, or without an
   * answer), the check is inconclusive, never a pass.
   */
  mismatchRate: z.strictObject({ max: share, minComparedShare: share.optional() }).optional(),
};

export const thresholdsSchema = z.strictObject(thresholdShape);
/** The same shape as `thresholds`, judged on a 5-second slice; `minRequests` guards against tiny slices. */
export const criticalSchema = z.strictObject({ ...thresholdShape, minRequests: count(1).default(DEFAULT_CRITICAL_MIN_REQUESTS) });

export const latencyJudgmentSchema = z.strictObject({
  /** A V2 slowdown fails when the two-sided p-value is below alpha ... */
  alpha: z.number({ message: 'must be a number' }).gt(0, { message: 'must be between 0 and 1' }).lt(1, { message: 'must be between 0 and 1' }).default(DEFAULT_JUDGMENT_ALPHA),
  /** ... and the rank-biserial effect (V2 slower) is at least this large. */
  minEffect: z.number({ message: 'must be a number' }).min(0, { message: 'must be between 0 and 1' }).max(1, { message: 'must be between 0 and 1' }).default(DEFAULT_JUDGMENT_MIN_EFFECT),
});

const metricsSourceSchema = z.union(
  [
    z.literal('proxies'),
    z.strictObject({
      prometheus: z.strictObject({
        url: httpUrl,
        timeoutMs: count(1).default(5000),
        /** PromQL per signal, for later (observability issue). */
        queries: z.record(z.string(), z.string()).default({}),
      }),
    }),
  ],
  { message: "must be 'proxies' or { prometheus: { url } }" },
);

export const analysisSchema = z.strictObject({
  interval: positiveDuration.default(parseDuration(DEFAULT_INTERVAL) as number),
  minRequests: count(1).default(DEFAULT_MIN_REQUESTS),
  failureLimit: count(1).default(DEFAULT_FAILURE_LIMIT),
  inconclusiveLimit: count(1).default(DEFAULT_INCONCLUSIVE_LIMIT),
  thresholds: thresholdsSchema.default({}),
  critical: criticalSchema.optional(),
  latencyJudgment: latencyJudgmentSchema.optional(),
  metricsSource: metricsSourceSchema.default('proxies'),
});

const webhooksSchema = z.strictObject({
  onStep: httpUrl.optional(),
  onRollback: httpUrl.optional(),
  onComplete: httpUrl.optional(),
  gate: httpUrl.optional(),
  timeoutMs: count(1).max(60_000, { message: 'must be at most 60000' }).default(DEFAULT_WEBHOOK_TIMEOUT_MS),
  retries: count(0).max(10, { message: 'must be at most 10' }).default(DEFAULT_WEBHOOK_RETRIES),
});

const pauseValue = z
  .string({ message: 'must be manual or a duration like 30s' })
  .refine((s) => s === 'manual' || parseDuration(s) !== undefined, { message: 'must be manual or a duration like 30s' })
  .refine((s) => s === 'manual' || (parseDuration(s) ?? 0) <= MAX_TIMER_MS, { message: 'must be at most 596h (about 24.8 days, the longest timer)' });

const rawStepSchema = z.strictObject({
  mirror: positiveDuration.optional(),
  weight: weight.optional(),
  hold: duration.optional(),
  pause: pauseValue.optional(),
  routes: routeList.optional(),
  upstreams: upstreamList.optional(),
});

export const planSchema = z
  .strictObject({
    routes: routeList.optional(),
    upstreams: upstreamList.optional(),
    steps: z.array(rawStepSchema, { message: 'must be a list of steps' }).min(1, { message: 'must have at least one step' }),
    analysis: analysisSchema.default(analysisSchema.parse({})),
    webhooks: webhooksSchema.optional(),
    admin: z.array(httpUrl, { message: 'must be a list of admin URLs' }).min(1, { message: 'must list at least one admin URL' }).optional(),
    leaseTtl: duration
      .refine((ms) => ms >= 1000 && ms <= 3_600_000, { message: 'must be between 1s and 1h (another driver waits this long after a crash)' })
      .default(parseDuration(DEFAULT_LEASE_TTL) as number),
  })
  .superRefine((plan, ctx) => stepRules(plan.steps, ctx));

/** Rules across a step's fields. They read only which keys are there, so they also run on steps that failed other rules. */
function stepRules(steps: readonly unknown[], ctx: { addIssue(i: { code: 'custom'; path: PropertyKey[]; message: string }): void }): void {
  steps.forEach((raw, i) => {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return;
    const s = raw as Record<string, unknown>;
    const kinds = (['mirror', 'weight', 'pause'] as const).filter((k) => s[k] !== undefined);
    if (kinds.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['steps', i],
        message: kinds.length === 0 ? 'must have one of mirror, weight or pause' : `must have only one of mirror, weight or pause (has ${kinds.join(', ')})`,
      });
    }
    if (s.hold !== undefined && s.weight === undefined) {
      ctx.addIssue({ code: 'custom', path: ['steps', i, 'hold'], message: 'belongs to a weight step only' });
    }
    if (s.pause !== undefined && s.routes !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['steps', i, 'routes'], message: 'a pause holds the whole plan; remove routes here' });
    }
    if (s.pause !== undefined && s.upstreams !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['steps', i, 'upstreams'], message: 'a pause holds the whole plan; remove upstreams here' });
    }
  });
}

export type StepKind = 'mirror' | 'weight' | 'pause';

/** `upstreams`: the services the step names; resolvePlanServices (services.ts) adds their routes to `routes`. */
export type PlanStep =
  | { kind: 'mirror'; durationMs: number; routes?: readonly string[]; upstreams?: readonly string[] }
  | { kind: 'weight'; weight: number; holdMs: number; routes?: readonly string[]; upstreams?: readonly string[] }
  | { kind: 'pause'; manual: true }
  | { kind: 'pause'; manual: false; durationMs: number };

export type Thresholds = z.infer<typeof thresholdsSchema>;
export type CriticalThresholds = z.infer<typeof criticalSchema>;
export type LatencyJudgmentSettings = z.infer<typeof latencyJudgmentSchema>;
export type AnalysisSettings = z.infer<typeof analysisSchema>;
export type WebhookSettings = z.infer<typeof webhooksSchema>;
export type MetricsSourceSettings = AnalysisSettings['metricsSource'];

export interface Plan {
  /** Identifies the plan's steps: a run resumes a recorded position only for the same steps. */
  id: string;
  routes?: readonly string[];
  /** Services the plan names; their routes join `routes` once resolved (services.ts). */
  upstreams?: readonly string[];
  steps: readonly PlanStep[];
  analysis: AnalysisSettings;
  webhooks?: WebhookSettings;
  admin?: readonly string[];
  leaseTtlMs: number;
}

function toStep(s: z.infer<typeof rawStepSchema>): PlanStep {
  const routes = { ...(s.routes ? { routes: s.routes } : {}), ...(s.upstreams ? { upstreams: s.upstreams } : {}) };
  if (s.mirror !== undefined) return { kind: 'mirror', durationMs: s.mirror, ...routes };
  if (s.weight !== undefined) return { kind: 'weight', weight: s.weight, holdMs: s.hold ?? 0, ...routes };
  if (s.pause === 'manual') return { kind: 'pause', manual: true };
  return { kind: 'pause', manual: false, durationMs: parseDuration(s.pause as string) as number };
}

/** Validate an already-parsed plan. Throws an InputError (exit 2) naming every failing field. */
export function validatePlan(raw: unknown, source = 'plan'): Readonly<Plan> {
  const result = planSchema.safeParse(raw ?? {});
  if (!result.success) {
    const issues: z.core.$ZodIssue[] = [...result.error.issues];
    // zod skips the step rules when a field failed: run them too, so one pass reports everything
    const steps = (raw as { steps?: unknown } | null)?.steps;
    if (Array.isArray(steps)) stepRules(steps, { addIssue: (i) => issues.push(i as unknown as z.core.$ZodIssue) });
    const lines = [...new Set(issues.map((i) => issueLine(i, raw)))];
    throw planError('', `${source} is invalid:\n  ${lines.join('\n  ')}`, result.error);
  }
  const p = result.data;
  const steps = p.steps.map(toStep);
  const id = createHash('sha256')
    .update(JSON.stringify(p.upstreams ? { routes: p.routes ?? null, upstreams: p.upstreams, steps } : { routes: p.routes ?? null, steps }))
    .digest('hex')
    .slice(0, 16);
  const plan: Plan = {
    id,
    ...(p.routes ? { routes: p.routes } : {}),
    ...(p.upstreams ? { upstreams: p.upstreams } : {}),
    steps,
    analysis: p.analysis,
    ...(p.webhooks ? { webhooks: p.webhooks } : {}),
    ...(p.admin ? { admin: p.admin } : {}),
    leaseTtlMs: p.leaseTtl,
  };
  return deepFreeze(plan);
}

export function parsePlanText(text: string, source = 'plan', env: NodeJS.ProcessEnv = process.env): Readonly<Plan> {
  let substituted: string;
  try {
    substituted = substituteEnv(text, env, source);
  } catch (err) {
    throw planError('', (err as Error).message, err);
  }
  let raw: unknown;
  try {
    raw = parseYaml(substituted);
  } catch (err) {
    throw planError(source, `is not valid YAML: ${(err as Error).message}`, err);
  }
  return validatePlan(raw, source);
}

export function loadPlan(file: string, env: NodeJS.ProcessEnv = process.env): Readonly<Plan> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw planError('plan', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, err);
  }
  return parsePlanText(text, file, env);
}

/** The routes a step changes: its own list, else the plan's, else every route in the state. */
export function stepRoutes(plan: Plan, step: PlanStep, allRoutes: readonly string[]): readonly string[] {
  if (step.kind !== 'pause' && step.routes) return step.routes;
  return plan.routes ?? allRoutes;
}

/** Every route name the plan mentions (to check against the state before anything changes). */
export function namedRoutes(plan: Plan): Array<{ field: string; route: string }> {
  const out: Array<{ field: string; route: string }> = [];
  plan.routes?.forEach((route, i) => out.push({ field: `routes[${i}]`, route }));
  plan.steps.forEach((s, i) => {
    if (s.kind !== 'pause') s.routes?.forEach((route, j) => out.push({ field: `steps[${i}].routes[${j}]`, route }));
  });
  return out;
}
