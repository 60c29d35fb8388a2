/**
 * Property fuzz over every kind of user input: configs, plans, CLI arguments and admin API
 * bodies. The assertion for each generated input: it is refused as bad input (exit 2 / HTTP
 * 4xx) with a field path in the message, or it is accepted and equal in effect to a valid
 * input (validating the result again gives the same result). Never a stack trace, never a
 * crash of another kind, never a changed state after a refusal. The bulk runs in-process; the
 * CLI is spawned for a small fixed sample (the cases a fuzz of 313 inputs once found).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { stringify as toYaml } from 'yaml';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { parseConfigText, validateConfig } from '../../shared/config.js';
import { InputError } from '../../shared/errors.js';
import { validateChangeRequest, validateStateDocument } from '../../shared/state/documents.js';
import { formatPath } from '../../shared/validation.js';
import { validatePlan } from '../../rollout-cli/plan/schema.js';
import { main } from '../../rollout-cli/main.js';
import { startProxy, type RunningProxy } from '../../proxy/index.js';
import { runCutover, stopAll, tempDir } from '../helpers/processes.js';
import { rawRequest, startOrigin } from '../proxy/origins.js';

afterAll(stopAll);

const STACK = /\n\s+at .+[:(]\d+/;
const RUNS = 150;

/** Values a user might put anywhere by mistake. */
const badValue = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 8 }),
  fc.constantFrom('', ' 5 ', '10', 'NaN', '-1', '1e309', '${UNSET}', 'redis://127.0.0.1:notaport/0', '\u0000', '\uFFFD\uD800', 'null'),
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -1, 1e12, 2 ** 31, 99999999999999, Number.MAX_SAFE_INTEGER, 0.001, 5000),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 2 }),
);

function setAt(root: unknown, path: PropertyKey[], value: unknown): unknown {
  const copy = structuredClone(root) as Record<PropertyKey, unknown>;
  let at = copy as Record<PropertyKey, unknown>;
  for (const k of path.slice(0, -1)) {
    if (at[k] === null || typeof at[k] !== 'object') at[k] = typeof path[path.indexOf(k) + 1] === 'number' ? [] : {};
    at = at[k] as Record<PropertyKey, unknown>;
  }
  at[path[path.length - 1]!] = value;
  return copy;
}

/** A refusal names the field (or one of its parents) and says why; nothing else escapes. */
function expectFieldRefusal(err: unknown, path: PropertyKey[]): void {
  expect(err).toBeInstanceOf(InputError);
  const e = err as InputError;
  expect(e.exitCode).toBe(2);
  expect(e.status).toBeLessThan(500);
  expect(e.message).not.toMatch(STACK);
  const named: string[] = [];
  for (let n = path.length; n >= 1; n--) named.push(formatPath(path.slice(0, n)));
  const lines = e.message.split('\n');
  expect(lines.some((l) => named.some((p) => l.includes(`${p}:`) || l.includes(`${p}.`) || l.includes(`${p}[`)))).toBe(true);
}

const VALID_CONFIG = {
  upstreams: { legacy: 'http://127.0.0.1:4001', v2: 'http://127.0.0.1:4002' },
  listen: { data: '127.0.0.1:8080', admin: '127.0.0.1:8081' },
  state: 'file://.cutover/state.json',
  routes: [
    { name: 'balance', match: { method: 'GET', path: '/accounts/:accountId/balance' }, mode: 'canary', weight: 5, stickyBy: 'param:accountId' },
    { name: 'payments', match: { method: 'POST', path: '/payments' }, mode: 'legacy' },
  ],
  verifier: { workers: 1, queueSize: 100 },
  redact: { headers: ['authorization'], paths: ['/ssn'] },
};

const CONFIG_PATHS: PropertyKey[][] = [
  ['upstreams', 'legacy'],
  ['upstreams', 'v2'],
  ['listen', 'data'],
  ['listen', 'admin'],
  ['state'],
  ['adminToken'],
  ['replicaId'],
  ['routes', 0, 'name'],
  ['routes', 0, 'weight'],
  ['routes', 0, 'mode'],
  ['routes', 0, 'stickyBy'],
  ['routes', 0, 'timeoutMs'],
  ['routes', 0, 'match', 'path'],
  ['routes', 0, 'match', 'method'],
  ['routes', 1, 'mirror', 'timeoutMs'],
  ['routes', 1, 'maxBodyBytes'],
  ['defaultRoute', 'name'],
  ['verifier', 'workers'],
  ['verifier', 'queueSize'],
  ['verifier', 'diffDir'],
  ['redact', 'headers'],
  ['redact', 'patterns'],
  ['record', 'file'],
  ['stats', 'windowSeconds'],
  ['adminOpen'],
];

const VALID_PLAN = {
  steps: [{ mirror: '10m' }, { weight: 1, hold: '5m' }, { pause: 'manual' }, { weight: 100 }],
  analysis: { interval: '30s', minRequests: 200, thresholds: { errorRate: { max: 0.01 } } },
  leaseTtl: '15s',
};

const PLAN_PATHS: PropertyKey[][] = [
  ['steps', 0, 'mirror'],
  ['steps', 1, 'weight'],
  ['steps', 1, 'hold'],
  ['steps', 2, 'pause'],
  ['steps', 3, 'routes'],
  ['analysis', 'interval'],
  ['analysis', 'minRequests'],
  ['analysis', 'failureLimit'],
  ['analysis', 'thresholds', 'errorRate', 'max'],
  ['leaseTtl'],
  ['routes'],
  ['webhooks', 'timeoutMs'],
];

describe('property: configs', () => {
  it('refuses a bad value naming its field, or accepts something that validates to itself', () => {
    fc.assert(
      fc.property(fc.constantFrom(...CONFIG_PATHS), badValue, (path, value) => {
        const raw = setAt(VALID_CONFIG, path, value);
        let accepted: unknown;
        try {
          accepted = validateConfig(raw, 'cutover.yaml');
        } catch (err) {
          expectFieldRefusal(err, path);
          return;
        }
        expect(validateConfig(JSON.parse(JSON.stringify(accepted)), 'again')).toEqual(accepted);
      }),
      { numRuns: RUNS },
    );
  });

  it('reports every bad field of a config in one pass', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.constantFrom(...CONFIG_PATHS.filter((p) => p[0] !== 'adminToken')), { minLength: 2, maxLength: 4 }), (paths) => {
        let raw: unknown = VALID_CONFIG;
        // a value that is bad wherever it goes: an object where a scalar or a list belongs
        for (const p of paths) raw = setAt(raw, p, { nope: true });
        try {
          validateConfig(raw, 'cutover.yaml');
        } catch (err) {
          for (const p of paths) expectFieldRefusal(err, p);
          return;
        }
        throw new Error(`accepted ${JSON.stringify(paths)}`);
      }),
      { numRuns: 40 },
    );
  });

  it('turns any text into a config or an input error, never another crash', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 60 }), fc.string({ unit: 'binary', maxLength: 60 }), badValue.map((v) => toYaml({ upstreams: v, routes: v }))), (text) => {
        try {
          parseConfigText(text, 'cutover.yaml', {});
        } catch (err) {
          expect(err).toBeInstanceOf(InputError);
          expect((err as Error).message).not.toMatch(STACK);
        }
      }),
      { numRuns: RUNS },
    );
  });
});

describe('property: plans', () => {
  it('refuses a bad value naming its field, or accepts something equal in effect', () => {
    fc.assert(
      fc.property(fc.constantFrom(...PLAN_PATHS), badValue, (path, value) => {
        const raw = setAt(VALID_PLAN, path, value);
        try {
          const plan = validatePlan(raw, 'plan.yaml');
          expect(plan.leaseTtlMs).toBeLessThanOrEqual(3_600_000);
          for (const s of plan.steps) if ('durationMs' in s) expect(s.durationMs).toBeLessThanOrEqual(2 ** 31 - 1);
        } catch (err) {
          expectFieldRefusal(err, path);
        }
      }),
      { numRuns: RUNS },
    );
  });
});

describe('property: admin bodies (in-process validators)', () => {
  const change = fc.record(
    {
      action: fc.oneof(fc.constantFrom('set-weight', 'mode', 'pause', 'resume', 'promote', 'abort'), badValue),
      route: badValue,
      weight: badValue,
      mode: badValue,
      maxStep: badValue,
      full: badValue,
      force: badValue,
    },
    { requiredKeys: ['action'] },
  );
  it('validates a change body or refuses it as a 400 naming a field', () => {
    fc.assert(
      fc.property(change, (body) => {
        try {
          const req = validateChangeRequest(body);
          if (req.action === 'set-weight') expect(typeof req.weight).toBe('number');
        } catch (err) {
          expect(err).toBeInstanceOf(InputError);
          expect((err as InputError).status).toBe(400);
          expect((err as InputError).field).not.toBe('');
          expect((err as Error).message).not.toMatch(STACK);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('validates a state document or refuses it as a 400 naming a field', () => {
    const doc = { routes: { balance: { mode: 'canary', weight: 5 } }, paused: false, aborted: false };
    fc.assert(
      fc.property(
        fc.constantFrom<PropertyKey[]>(['routes', 'balance', 'weight'], ['routes', 'balance', 'mode'], ['paused'], ['aborted'], ['abortReason'], ['routes'], ['plan'], ['waivers']),
        badValue,
        (path, value) => {
          try {
            validateStateDocument(setAt(doc, path, value));
          } catch (err) {
            expect(err).toBeInstanceOf(InputError);
            expect((err as InputError).status).toBe(400);
            expect((err as Error).message).toMatch(new RegExp(`^state\\.${String(path[0])}`));
          }
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe('property: admin bodies over HTTP', () => {
  const TOKEN = 'fuzz-admin-token-0123456789';
  const open: Array<{ close(): Promise<void> }> = [];
  afterEach(async () => {
    while (open.length) await open.pop()!.close();
  });

  it('answers every fuzzed body with 2xx or 4xx (never 5xx, never a hang), and a refusal changes nothing', async () => {
    const legacy = await startOrigin('legacy');
    const v2 = await startOrigin('v2');
    open.push(legacy, v2);
    const config = parseConfigText(
      `upstreams: { legacy: ${legacy.url}, v2: ${v2.url} }
listen: { data: 127.0.0.1:0, admin: 127.0.0.1:0 }
state: file://${tempDir()}/state.json
adminToken: ${TOKEN}
routes:
  - { name: balance, match: { method: GET, path: /accounts/:accountId/balance }, mode: canary, weight: 5, stickyBy: param:accountId }
`,
      'fuzz.yaml',
      {},
    );
    const proxy: RunningProxy = await startProxy({ config, log: { log() {} } });
    open.push(proxy);
    const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
    const readState = async () => JSON.parse((await rawRequest(proxy.adminUrl, { path: '/admin/state', headers })).body.toString()).state;
    const bodies = fc.sample(
      fc.oneof(
        fc.record({ action: fc.constantFrom('set-weight', 'mode', 'promote', 'resume'), route: fc.oneof(fc.constant('balance'), badValue), weight: badValue, mode: badValue, reason: badValue }, { requiredKeys: ['action'] }),
        fc.record({ reason: fc.oneof(badValue, fc.constant('x'.repeat(5000))), route: badValue, timeoutMs: badValue }),
        fc.jsonValue({ maxDepth: 2 }),
      ),
      { numRuns: 30, seed: 16 },
    );
    for (const [i, body] of bodies.entries()) {
      const path = i % 3 === 1 ? '/admin/abort' : '/admin/change';
      const before = await readState();
      const res = await rawRequest(proxy.adminUrl, { method: 'POST', path, headers, body: JSON.stringify(body) });
      const text = res.body.toString();
      expect([path, body, res.status < 500]).toEqual([path, body, true]);
      expect(text).not.toMatch(STACK);
      if (res.status >= 400) {
        expect(JSON.parse(text).error.message).toMatch(/^[\w.[\]-]+: |^body/);
        const after = await readState();
        expect([body, after.version]).toEqual([body, before.version]);
      } else if (path === '/admin/abort' || (after_aborted(text))) {
        // an accepted abort is undone so that later bodies meet a live rollout
        await rawRequest(proxy.adminUrl, { method: 'POST', path: '/admin/change', headers, body: JSON.stringify({ action: 'resume', reason: 'fuzz: undo' }) });
      }
    }
  }, 120_000);
});

function after_aborted(text: string): boolean {
  try {
    return JSON.parse(text).state?.aborted === true;
  } catch {
    return false;
  }
}

const asArg = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v) ?? 'undefined');

describe('property: CLI arguments', () => {
  it('ends every fuzzed verb with exit 0, 1 or 2; a 2 names the field and leaves the state file as it was', async () => {
    const dir = tempDir();
    const stateFile = join(dir, 'state.json');
    const config = join(dir, 'cutover.yaml');
    writeFileSync(
      config,
      `upstreams: { legacy: http://127.0.0.1:1, v2: http://127.0.0.1:2 }\nstate: file://${stateFile}\nroutes:\n  - { name: balance, match: { method: GET, path: /a/:id }, mode: canary, weight: 5 }\n`,
    );
    const argv = fc.sample(
      fc.tuple(
        fc.constantFrom('set-weight', 'mode', 'abort', 'history', 'pause', 'resume', 'promote'),
        fc.array(fc.oneof(badValue.map(asArg), fc.constantFrom('balance', 'canary', 'v2', '--all', '--force')), { maxLength: 3 }),
        fc.array(fc.tuple(fc.constantFrom('--max-step', '--reason', '--limit', '--timeout', '--stale-after', '--route'), badValue.map(asArg)), { maxLength: 2 }),
      ),
      { numRuns: 60, seed: 17 },
    );
    // the store exists before the fuzz, so every refusal can be checked against it
    expect(await main(['node', 'cutover', 'pause', '--config', config, '--reason', 'seed'])).toBe(0);
    const writes: string[] = [];
    const original = process.stderr.write.bind(process.stderr);
    const originalOut = process.stdout.write.bind(process.stdout);
    for (const [verb, args, flags] of argv) {
      const before = readFileSync(stateFile, 'utf8');
      writes.length = 0;
      process.stderr.write = ((chunk: string) => (writes.push(String(chunk)), true)) as typeof process.stderr.write;
      process.stdout.write = (() => true) as typeof process.stdout.write;
      let code: number;
      try {
        code = await main(['node', 'cutover', verb, ...args, ...flags.flat(), '--config', config]);
      } finally {
        process.stderr.write = original;
        process.stdout.write = originalOut;
      }
      const err = writes.join('');
      const what = [verb, ...args, ...flags.flat()].join(' ');
      expect([what, [0, 1, 2].includes(code)]).toEqual([what, true]);
      expect([what, err]).not.toEqual([what, expect.stringMatching(STACK)]);
      expect([what, err.includes('unexpected failure')]).toEqual([what, false]);
      if (code === 2) {
        expect([what, readFileSync(stateFile, 'utf8') === before]).toEqual([what, true]);
        expect([what, /^cutover: /.test(err)]).toEqual([what, true]);
      }
    }
  }, 120_000);

  it('spawned: the cases that once crashed or were accepted end with exit 2, a field and no stack trace', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'a-directory'));
    const cases: Array<[string[], RegExp]> = [
      [['status', '--state', 'redis://127.0.0.1:notaport/0'], /--state: .*port "notaport" must be a number/],
      [['report', '--pairs', join(dir, 'a-directory'), '--out', join(dir, 'r.html')], /--pairs: .*is a directory/],
      [['verify', '--pairs', join(dir, 'a-directory')], /is a directory/],
      [['set-weight', 'balance', '150', '--state', `file://${dir}/s.json`], /weight: must be between 0 and 100/],
    ];
    for (const [args, message] of cases) {
      const r = await runCutover(args, { cwd: dir, timeoutMs: 60_000 });
      expect([args.join(' '), r.code]).toEqual([args.join(' '), 2]);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(STACK);
    }
  }, 240_000);
});

describe('config: adminToken naming an unset variable', () => {
  it('leaves status and --token working, and only the proxy refuses to start without the token', async () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'cutover.yaml'),
      `upstreams: { legacy: http://127.0.0.1:1, v2: http://127.0.0.1:2 }\nlisten: { data: 127.0.0.1:0, admin: 127.0.0.1:0 }\nstate: file://${dir}/state.json\nadminToken: \${FUZZ_UNSET_TOKEN}\nroutes:\n  - { name: balance, match: { method: GET, path: /a/:id } }\n`,
    );
    const env = { FUZZ_UNSET_TOKEN: '', CUTOVER_ADMIN_TOKEN: '' };
    const pause = await runCutover(['pause', '--reason', 'x'], { cwd: dir, env });
    expect([pause.code, pause.stderr]).toEqual([0, '']);
    const status = await runCutover(['status', '--json'], { cwd: dir, env });
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout).state.paused).toBe(true);
    const proxy = await runCutover(['proxy'], { cwd: dir, env, timeoutMs: 30_000 });
    expect(proxy.code).toBe(2);
    expect(proxy.stderr).toMatch(/adminToken: \$\{FUZZ_UNSET_TOKEN\} is not set in the environment/);
    expect(proxy.stderr).not.toMatch(STACK);
  }, 120_000);
});
