import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPlan, namedRoutes, parsePlanText, stepRoutes } from '../../rollout-cli/plan/schema.js';
import { formatDuration, parseDuration } from '../../rollout-cli/plan/duration.js';
import { InputError } from '../../shared/errors.js';
import { tempDir } from '../helpers/processes.js';

const documented = `
steps:
  - mirror: 10m
  - weight: 1
    hold: 5m
  - weight: 25
  - pause: manual
  - weight: 100
analysis:
  interval: 30s
  minRequests: 200
  failureLimit: 2
  thresholds:
    errorRate: { max: 0.01 }
    latencyP99Ms: { max: 250, maxRatioToLegacy: 1.5 }
    throttleRate: { max: 0.02 }
    mismatchRate: { max: 0.001 }
`;

function refusal(text: string): InputError {
  try {
    parsePlanText(text, 'plan.yaml', {});
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).exitCode).toBe(2);
    expect((err as InputError).code).toBe('CUTOVER_ERR_PLAN');
    return err as InputError;
  }
  throw new Error('expected the plan to be refused');
}

describe('durations', () => {
  it('reads ms, s, m and h', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('10m')).toBe(600_000);
    expect(parseDuration('1h')).toBe(3_600_000);
    expect(parseDuration('1.5s')).toBe(1500);
  });
  it('refuses anything else', () => {
    for (const bad of ['30', 's', '10 m', '-1s', '1d', '1h30m', '']) expect(parseDuration(bad)).toBeUndefined();
  });
  it('formats for people', () => {
    expect(formatDuration(90_000)).toBe('1m30s');
    expect(formatDuration(3_600_000)).toBe('1h');
    expect(formatDuration(250)).toBe('250ms');
    expect(formatDuration(0)).toBe('0ms');
    expect(formatDuration(1000)).toBe('1s');
  });
});

describe('plan validation', () => {
  it('accepts the documented example, normalises steps and fills defaults', () => {
    const plan = parsePlanText(documented, 'plan.yaml', {});
    expect(plan.steps).toEqual([
      { kind: 'mirror', durationMs: 600_000 },
      { kind: 'weight', weight: 1, holdMs: 300_000 },
      { kind: 'weight', weight: 25, holdMs: 0 },
      { kind: 'pause', manual: true },
      { kind: 'weight', weight: 100, holdMs: 0 },
    ]);
    expect(plan.analysis.interval).toBe(30_000);
    expect(plan.analysis.inconclusiveLimit).toBe(3);
    expect(plan.analysis.metricsSource).toBe('proxies');
    expect(plan.leaseTtlMs).toBe(15_000);
    expect(plan.id).toMatch(/^[0-9a-f]{16}$/);
    expect(Object.isFrozen(plan.steps[1])).toBe(true);
  });

  it('gives the same id to the same steps whatever the analysis settings', () => {
    const a = parsePlanText(documented, 'p', {});
    const b = parsePlanText(documented.replace('minRequests: 200', 'minRequests: 50'), 'p', {});
    const c = parsePlanText(documented.replace('weight: 25', 'weight: 30'), 'p', {});
    expect(a.id).toBe(b.id);
    expect(a.id).not.toBe(c.id);
  });

  it('accepts per-route plans, critical thresholds, latency judgment, webhooks, admin URLs and a Prometheus source', () => {
    const plan = parsePlanText(
      `
routes: [balance, transactions]
steps:
  - weight: 5
    routes: [balance]
  - pause: 30s
  - weight: 50
    hold: 1m
analysis:
  critical: { errorRate: { max: 0.2 } }
  latencyJudgment: {}
  metricsSource: { prometheus: { url: http://127.0.0.1:9090 } }
webhooks: { onStep: http://127.0.0.1:9/step, gate: http://127.0.0.1:9/gate }
admin: [http://127.0.0.1:8081]
leaseTtl: 2s
`,
      'p',
      {},
    );
    expect(plan.steps[0]).toEqual({ kind: 'weight', weight: 5, holdMs: 0, routes: ['balance'] });
    expect(plan.steps[1]).toEqual({ kind: 'pause', manual: false, durationMs: 30_000 });
    expect(plan.analysis.critical).toEqual({ errorRate: { max: 0.2 }, minRequests: 20 });
    expect(plan.analysis.latencyJudgment).toEqual({ alpha: 0.01, minEffect: 0.3 });
    expect(plan.webhooks).toMatchObject({ timeoutMs: 2000, retries: 2 });
    expect(plan.admin).toEqual(['http://127.0.0.1:8081']);
    expect(plan.leaseTtlMs).toBe(2000);
    expect(stepRoutes(plan, plan.steps[0], ['a', 'b', 'c'])).toEqual(['balance']);
    expect(stepRoutes(plan, plan.steps[2], ['a', 'b', 'c'])).toEqual(['balance', 'transactions']);
    expect(namedRoutes(plan).map((r) => r.field)).toEqual(['routes[0]', 'routes[1]', 'steps[0].routes[0]']);
  });

  it('uses every route of the state when the plan names none', () => {
    const plan = parsePlanText(documented, 'p', {});
    expect(stepRoutes(plan, plan.steps[1], ['a', 'b'])).toEqual(['a', 'b']);
  });

  const rules: Array<[string, string, string]> = [
    ['weight above 100', documented.replace('weight: 25', 'weight: 125'), 'steps[2].weight: must be between 0 and 100'],
    ['weight below 0', documented.replace('weight: 25', 'weight: -1'), 'steps[2].weight: must be between 0 and 100'],
    ['weight with three decimals', documented.replace('weight: 25', 'weight: 25.125'), 'steps[2].weight: must have at most two decimals'],
    ['weight not a number', documented.replace('weight: 25', 'weight: lots'), 'steps[2].weight: must be a number'],
    ['bad hold', documented.replace('hold: 5m', 'hold: 5x'), 'steps[1].hold: must be a duration like 500ms, 30s, 10m or 1h'],
    ['bare number as duration', documented.replace('interval: 30s', 'interval: 30'), 'analysis.interval: must be a duration'],
    ['zero interval', documented.replace('interval: 30s', 'interval: 0s'), 'analysis.interval: must be longer than 0'],
    ['bad mirror duration', documented.replace('mirror: 10m', 'mirror: ten'), 'steps[0].mirror: must be a duration'],
    ['bad pause', documented.replace('pause: manual', 'pause: later'), 'steps[3].pause: must be manual or a duration like 30s'],
    ['two kinds in one step', documented.replace('- pause: manual', '- pause: manual\n    weight: 3'), 'steps[3]: must have only one of mirror, weight or pause (has weight, pause)'],
    ['no kind in a step', documented.replace('- pause: manual', '- routes: [a]'), 'steps[3]: must have one of mirror, weight or pause'],
    ['hold on a mirror step', documented.replace('- mirror: 10m', '- mirror: 10m\n    hold: 1m'), 'steps[0].hold: belongs to a weight step only'],
    ['routes on a pause', documented.replace('- pause: manual', '- pause: manual\n    routes: [a]'), 'steps[3].routes: a pause holds the whole plan'],
    ['no steps', 'steps: []', 'steps: must have at least one step'],
    ['missing steps', 'analysis: {}', 'steps: is required'],
    ['unknown top-level key', documented + 'stepz: []\n', 'stepz: unknown key'],
    ['unknown analysis key', documented.replace('minRequests', 'minRequets'), 'analysis.minRequets: unknown key'],
    ['unknown threshold', documented.replace('throttleRate:', 'throttlingRate:'), 'analysis.thresholds.throttlingRate: unknown key'],
    ['unknown key in a step', documented.replace('hold: 5m', 'hodl: 5m'), 'steps[1].hodl: unknown key'],
    ['rate above 1', documented.replace('errorRate: { max: 0.01 }', 'errorRate: { max: 5 }'), 'analysis.thresholds.errorRate.max: must be a share between 0 and 1'],
    ['latency ratio below 1', documented.replace('maxRatioToLegacy: 1.5', 'maxRatioToLegacy: 0.5'), 'analysis.thresholds.latencyP99Ms.maxRatioToLegacy: must be at least 1'],
    ['negative latency', documented.replace('max: 250', 'max: -3'), 'analysis.thresholds.latencyP99Ms.max: must be greater than 0'],
    ['fractional minRequests', documented.replace('minRequests: 200', 'minRequests: 2.5'), 'analysis.minRequests: must be a whole number'],
    ['zero failureLimit', documented.replace('failureLimit: 2', 'failureLimit: 0'), 'analysis.failureLimit: must be at least 1'],
    ['bad metrics source', documented + '  metricsSource: graphite\n', "analysis.metricsSource: must be 'proxies' or { prometheus: { url } }"],
    ['bad webhook URL', documented + 'webhooks: { onStep: ftp://x }\n', 'webhooks.onStep: must be an http:// or https:// URL'],
    ['webhook retries too high', documented + 'webhooks: { retries: 50 }\n', 'webhooks.retries: must be at most 10'],
    ['empty admin list', documented + 'admin: []\n', 'admin: must list at least one admin URL'],
    ['bad route name', documented.replace('- weight: 25', '- weight: 25\n    routes: ["a b"]'), 'steps[2].routes[0]: must be letters, digits, _ . or -'],
    ['short lease', documented + 'leaseTtl: 10ms\n', 'leaseTtl: must be between 1s and 1h'],
    ['lease beyond an hour', documented + 'leaseTtl: 99999999h\n', 'leaseTtl: must be at most 596h'],
    ['hold beyond the longest timer', documented.replace('hold: 5m', 'hold: 999999999999h'), 'steps[1].hold: must be at most 596h'],
    ['unknown critical key', documented + '  critical: { errRate: { max: 0.2 } }\n', 'analysis.critical.errRate: unknown key'],
    ['judgment alpha out of range', documented + '  latencyJudgment: { alpha: 2 }\n', 'analysis.latencyJudgment.alpha: must be between 0 and 1'],
  ];
  for (const [name, text, message] of rules) {
    it(`refuses ${name}, naming the path and the rule`, () => {
      expect(refusal(text).message).toContain(message);
    });
  }

  it('reports every failing field at once', () => {
    const msg = refusal(documented.replace('weight: 25', 'weight: 125').replace('hold: 5m', 'hold: x')).message;
    expect(msg).toContain('steps[2].weight');
    expect(msg).toContain('steps[1].hold');
  });

  it('refuses YAML that does not parse, and an unset ${ENV}', () => {
    expect(refusal('steps: [').message).toContain('plan.yaml: is not valid YAML');
    expect(refusal('steps:\n  - weight: ${W}\n').message).toContain('${W} is not set');
  });

  it('loads from a file and names a missing one', () => {
    const dir = tempDir();
    const file = join(dir, 'plan.yaml');
    writeFileSync(file, documented);
    expect(loadPlan(file, {}).steps).toHaveLength(5);
    expect(() => loadPlan(join(dir, 'nope.yaml'), {})).toThrow(/cannot read .*nope.yaml: ENOENT/);
  });
});
