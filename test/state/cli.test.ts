/**
 * The control verbs end to end (the CLI as a child process): --state file://, --state redis://,
 * and --admin through the admin state routes; bad input exits 2 naming the argument and moves
 * no version.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCutover, spawnCutover, startRedis, stopAll, tempDir, type RedisHandle } from '../helpers/processes.js';
import { openStateStore, ReplicaAgent, initialStateFromConfig, type StateStore } from '../../shared/state/index.js';
import { stateRoutes } from '../../proxy/admin-state-routes.js';
import { SEED_CONFIG, sleep } from './helpers.js';

afterAll(stopAll);

function writeConfig(dir: string, stateUrl: string): string {
  const file = join(dir, 'cutover.yaml');
  writeFileSync(
    file,
    [
      'upstreams: { legacy: http://127.0.0.1:4001, v2: http://127.0.0.1:4002 }',
      `state: ${stateUrl}`,
      'routes:',
      '  - name: balance',
      '    match: { method: GET, path: /accounts/:accountId/balance }',
      '    mode: mirror',
      '  - name: tx',
      '    match: { method: GET, path: /accounts/:accountId/transactions }',
      '',
    ].join('\n'),
  );
  return file;
}

const json = (s: string) => JSON.parse(s) as Record<string, any>;

/** Bad inputs shared by every target: [args, the argument the message must name]. */
const BAD_INPUTS: Array<[string[], RegExp]> = [
  [['set-weight', 'balance', '101'], /weight: must be between 0 and 100/],
  [['set-weight', 'balance', '12.345'], /weight: "12\.345" has more than two decimals/],
  [['set-weight', 'balance', '-3'], /weight: /],
  [['set-weight', 'nope', '5'], /route: unknown route "nope"; known routes: balance, tx, default/],
  [['mode', 'balance', 'sideways'], /mode: unknown mode "sideways"; use one of legacy, mirror, canary, v2/],
  [['abort'], /--reason: is required/],
];

/** The subset run against the other targets (the file target runs them all). */
const SOME_BAD_INPUTS = [BAD_INPUTS[1]!, BAD_INPUTS[3]!, BAD_INPUTS[4]!, BAD_INPUTS[5]!];

async function expectBadInputs(target: string[], version: () => Promise<number>, cases = BAD_INPUTS): Promise<void> {
  const before = await version();
  const results = await Promise.all(cases.map(([args]) => runCutover([...args, ...target])));
  results.forEach((r, i) => {
    expect(r.code, `${cases[i]![0].join(' ')}: ${r.stderr}`).toBe(2);
    expect(r.stderr).toMatch(cases[i]![1]);
    expect(r.stdout).toBe('');
  });
  expect(await version()).toBe(before);
}

describe('control verbs on a file store (defaults from cutover.yaml)', () => {
  const dir = tempDir('cutover-cli-');
  const stateUrl = `file://${join(dir, '.cutover', 'state.json')}`;
  const config = writeConfig(dir, stateUrl);
  const store = openStateStore(stateUrl);
  const t = ['--config', config];
  const version = async () => (await store.read())?.version ?? 0;
  afterAll(() => store.close());

  it('status on an empty store says so; the first change seeds from cutover.yaml', async () => {
    const empty = await runCutover(['status', ...t, '--json']);
    expect(empty.code).toBe(0);
    expect(json(empty.stdout)).toMatchObject({ schemaVersion: 1, command: 'status', state: null, replicas: [] });
    const r = await runCutover(['set-weight', 'balance', '10', ...t, '--json', '--reason', 'first step', '--ticket', 'OPS-1']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = json(r.stdout);
    expect(out).toMatchObject({ schemaVersion: 1, command: 'set-weight', ok: true, version: 2 });
    expect(out.changes).toContainEqual({ path: 'routes.balance.weight', from: 0, to: 10 });
    const st = json((await runCutover(['status', ...t, '--json'])).stdout);
    expect(st.state.routes).toEqual({ balance: { mode: 'canary', weight: 10 }, tx: { mode: 'legacy', weight: 0 }, default: { mode: 'legacy', weight: 0 } });
  });

  it('bad input exits 2, names the argument and leaves the version where it was', async () => {
    await expectBadInputs(t, version);
    const more: Array<[string[], RegExp]> = [
      [['set-weight', 'balance', '50'], /raising balance from 10 to 50 is a jump of 40 points, more than --max-step 25/],
      [['set-weight', 'balance', '20', '--max-step', '5.555'], /--max-step: /],
      [['history', '--limit', '0'], /--limit: must be a whole number/],
      [['abort', '--reason', 'x', '--timeout', 'soon'], /--timeout: must be a whole number/],
      [['set-weight', 'balance'], /weight: is required/],
    ];
    const v = await version();
    const results = await Promise.all(more.map(([args]) => runCutover([...args, ...t])));
    results.forEach((r, i) => {
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(more[i]![1]);
    });
    expect(await version()).toBe(v);
    const forced = await runCutover(['set-weight', 'balance', '50', '--force', ...t]);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toMatch(/routes\.balance\.weight 10 -> 50/);
  });

  it('pause, promote, mode, abort, refused re-ramp, resume with a reason, history', async () => {
    expect((await runCutover(['pause', ...t, '--reason', 'lunch'])).code).toBe(0);
    expect((await store.read())!.paused).toBe(true);
    expect((await runCutover(['promote', ...t])).code).toBe(0);
    expect((await store.read())!.paused).toBe(false);
    expect((await runCutover(['mode', 'tx', 'v2', '--force', ...t])).code).toBe(0);
    const ab = await runCutover(['abort', ...t, '--reason', 'error rate 3 %']);
    expect(ab.code).toBe(0);
    expect(ab.stdout).toMatch(/no live replica is registered/);
    const s = (await store.read())!;
    expect(s.aborted).toBe(true);
    expect(Object.values(s.routes).every((r) => r.mode === 'legacy')).toBe(true);
    const [ramp, full, noReason] = await Promise.all([
      runCutover(['set-weight', 'balance', '5', ...t]),
      runCutover(['promote', '--full', ...t]),
      runCutover(['resume', ...t]),
    ]);
    expect(ramp.code).toBe(1);
    expect(ramp.stderr).toMatch(/refused: the rollout is aborted \("error rate 3 %"\); run `cutover resume --reason TEXT` first/);
    expect(full.code).toBe(1);
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toMatch(/--reason: is required to resume after an abort/);
    expect((await store.read())!.version).toBe(s.version);
    const res = await runCutover(['resume', ...t, '--reason', 'fixed in 1.2.4', '--json']);
    expect(res.code).toBe(0);
    expect(json(res.stdout).state.aborted).toBe(false);
    const h = await runCutover(['history', ...t, '--json', '--limit', '3']);
    const entries = json(h.stdout).entries as Array<Record<string, any>>;
    expect(json(h.stdout).schemaVersion).toBe(1);
    expect(entries.map((e) => e.action)).toEqual(['mode', 'abort', 'resume']);
    expect(entries[1]!.reason).toBe('error rate 3 %');
    expect(entries[2]!.reason).toBe('fixed in 1.2.4');
    const plain = await runCutover(['history', ...t]);
    expect(plain.stdout).toMatch(/v\d+ {2}abort by .*reason: "error rate 3 %"/);
    expect(plain.stdout).not.toMatch(/\x1b\[/);
  });

  it('concurrent changes: each either lands or gets the conflict error, none is lost', async () => {
    const v0 = await version();
    const runs = await Promise.all([
      runCutover(['mode', 'balance', 'mirror', ...t, '--json']),
      runCutover(['mode', 'tx', 'mirror', ...t, '--json']),
      runCutover(['mode', 'default', 'mirror', ...t, '--json']),
    ]);
    const routes = ['balance', 'tx', 'default'];
    const landed = routes.filter((_, i) => runs[i]!.code === 0);
    runs.forEach((r) => {
      if (r.code !== 0) {
        expect(r.code).toBe(1);
        expect(r.stderr).toMatch(/CUTOVER_ERR_STATE_CONFLICT/);
        expect(r.stderr).toMatch(/re-read/);
      }
    });
    const s = (await store.read())!;
    expect(s.version).toBe(v0 + landed.length);
    for (const name of routes) expect(s.routes[name]!.mode).toBe(landed.includes(name) ? 'mirror' : 'legacy');
    expect((await store.history({ sinceVersion: v0 })).map((e) => e.changes[0]!.path).sort()).toEqual(landed.map((n) => `routes.${n}.mode`).sort());
  });

  it('colour only when asked for on a pipe (FORCE_COLOR), never with NO_COLOR', async () => {
    const coloured = await runCutover(['status', ...t], { env: { NO_COLOR: '', FORCE_COLOR: '1' } });
    expect(coloured.stdout).toMatch(/\x1b\[/);
    const plain = await runCutover(['status', ...t], { env: { NO_COLOR: '1', FORCE_COLOR: '1' } });
    expect(plain.stdout).not.toMatch(/\x1b\[/);
    expect(plain.stdout).toMatch(/^ROUTE +MODE +WEIGHT/m);
  });

  it('status --watch on a pipe prints each change as a line', async () => {
    const w = spawnCutover(['status', '--watch', ...t]);
    await w.waitForOutput(/cutover status/, 15_000);
    const s = (await store.read())!;
    await store.compareAndSet(s.version, { ...s, paused: true }, { by: 'carol', action: 'pause', reason: 'watch me' });
    await w.waitForOutput(new RegExp(`v${s.version + 1} {2}pause by carol: paused false -> true {2}reason: "watch me"`), 5000);
    await store.heartbeat({ id: 'live', host: 'h', pid: 1, appliedVersion: 1, lastSeen: new Date().toISOString() });
    await w.waitForOutput(/replica live \(pid 1 on h\) joined, applied version 1\n/, 5000);
    await store.heartbeat({ id: 'gone', host: 'h', pid: 2, appliedVersion: 1, lastSeen: new Date(Date.now() - 60_000).toISOString() });
    await w.waitForOutput(/replica gone \(pid 2 on h\) joined, applied version 1, STALE \(no heartbeat for over 5 s\)/, 5000);
    expect(await w.stop('SIGTERM')).toBe(0);
  });
});

describe('control verbs on Redis (--state redis://)', () => {
  let redis: RedisHandle;
  let store: StateStore;
  beforeAll(async () => {
    redis = await startRedis();
    store = openStateStore(redis.url);
    await store.compareAndSet(0, initialStateFromConfig(SEED_CONFIG as never), { by: 'test', action: 'init' });
  });
  afterAll(() => store?.close());

  it('change, status and history; bad input moves nothing', async () => {
    const t = ['--state', redis.url];
    // No cutover.yaml here: --all cannot tell write-only routes apart, so it needs --include-unsafe.
    const r = await runCutover(['set-weight', '--all', '1', ...t, '--json', '--include-unsafe']);
    expect(r.code, r.stderr).toBe(0);
    const routes = json(r.stdout).state.routes;
    expect(routes).toEqual({ balance: { mode: 'canary', weight: 1 }, tx: { mode: 'canary', weight: 1 }, default: { mode: 'legacy', weight: 0 } });
    await expectBadInputs(t, async () => (await store.read())!.version, SOME_BAD_INPUTS);
    const st = json((await runCutover(['status', ...t, '--json'])).stdout);
    // --all is one change for both routes: one version, one history entry
    expect(st.state.version).toBe(2);
    const h = json((await runCutover(['history', ...t, '--json'])).stdout);
    expect(h.entries.map((e: any) => e.action)).toEqual(['init', 'set-weight']);
  });

  it('an empty Redis store is not seeded from cutover.yaml by a change (it may have restarted empty under an abort); an abort still lands', async () => {
    const emptyUrl = redis.url.replace(/\/0$/, '/7');
    const config = writeConfig(tempDir('cutover-cli-empty-'), emptyUrl);
    const empty = openStateStore(emptyUrl);
    try {
      const r = await runCutover(['set-weight', 'balance', '10', '--config', config]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/holds no rollout state yet/);
      expect(await empty.read()).toBeUndefined();
      const a = await runCutover(['abort', '--reason', 'store came back empty', '--config', config, '--json']);
      expect(a.code).toBe(0);
      const st = await empty.read();
      expect(st?.aborted).toBe(true);
      expect(Object.values(st!.routes).every((x) => x.mode === 'legacy')).toBe(true);
    } finally {
      await empty.close();
    }
  });

  it('an unreachable store is exit 1 with CUTOVER_ERR_STATE_UNREACHABLE', async () => {
    const r = await runCutover(['status', '--state', 'redis://127.0.0.1:1/0']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/is unreachable.*CUTOVER_ERR_STATE_UNREACHABLE/);
  });
});

describe('control verbs through the admin API (--admin)', () => {
  const TOKEN = 'cli-admin-token-0123456789';
  let app: FastifyInstance;
  let store: StateStore;
  let agent: ReplicaAgent;
  let admin: string;
  beforeAll(async () => {
    store = openStateStore(`file://${join(tempDir('cutover-cli-admin-'), 'state.json')}`);
    agent = new ReplicaAgent(store, { id: 'proxy-a', heartbeatMs: 200, seed: () => initialStateFromConfig(SEED_CONFIG as never) }, () => undefined);
    app = Fastify();
    await app.register(stateRoutes, {
      agent,
      store,
      requireToken: async (req, reply) => {
        const h = req.headers.authorization;
        if (!h) return reply.code(401).send({ error: { code: 'CUTOVER_ERR_ADMIN_UNAUTHORIZED', message: 'Authorization: Bearer <token> is required' } });
        if (h !== `Bearer ${TOKEN}`) return reply.code(403).send({ error: { code: 'CUTOVER_ERR_ADMIN_FORBIDDEN', message: 'wrong admin token' } });
      },
    });
    await agent.start();
    admin = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await agent.stop();
    await app.close();
    await store.close();
  });

  it('does what --state does: change, abort (acknowledged by the proxy), resume', async () => {
    const t = ['--admin', admin, '--token', TOKEN];
    const r = await runCutover(['set-weight', 'balance', '5', ...t, '--reason', 'via admin']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/routes\.balance\.weight 0 -> 5/);
    expect((await store.read())!.routes.balance).toEqual({ mode: 'canary', weight: 5 });
    expect((await store.history({ limit: 1 }))[0]).toMatchObject({ action: 'set-weight', reason: 'via admin' });
    const ab = await runCutover(['abort', ...t, '--reason', 'bad diffs', '--json']);
    expect(ab.code).toBe(0);
    const doc = json(ab.stdout);
    expect(doc.ok).toBe(true);
    expect(doc.appliedBy.map((x: any) => x.id)).toEqual(['proxy-a']);
    const noReason = await runCutover(['resume', ...t]);
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toMatch(/--reason: is required to resume after an abort/);
    expect((await runCutover(['resume', ...t, '--reason', 'ok now'])).code).toBe(0);
    await sleep(50);
    expect(agent.applied!.aborted).toBe(false);
  });

  it('bad input exits 2 naming the argument; a missing or wrong token is refused; nothing changes', async () => {
    await expectBadInputs(['--admin', admin, '--token', TOKEN], async () => (await store.read())!.version, SOME_BAD_INPUTS);
    const v = (await store.read())!.version;
    const noToken = await runCutover(['pause', '--admin', admin], { env: { CUTOVER_ADMIN_TOKEN: '' } });
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toMatch(/--token/);
    const wrong = await runCutover(['pause', '--admin', admin, '--token', 'wrong-token-0123456789']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/wrong admin token/);
    expect((await store.read())!.version).toBe(v);
  });
});
