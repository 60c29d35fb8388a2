/**
 * `npm run bench:abort`: how fast an abort reaches every replica. Not a test.
 *
 * Three replica agents in three child processes on a Redis this benchmark starts on a free
 * port; 50 aborts, each followed by a resume. Per abort:
 * - applied: from the start of the compare-and-set to the moment the last replica applied it
 *   (each replica stamps its apply with the machine clock);
 * - acknowledged: from the same start to the moment this process saw the last replica's
 *   acknowledgement (what `cutover abort` waits for).
 * The same loop also runs on a file store, for comparison. Then the wall time of the built
 * binary for `cutover --help` and `cutover status --json` (run `npm run build` first).
 *
 * Break-glass: three real proxies (the built binary) serve a route at canary 100 on a Redis
 * that is then SIGKILLed; per run, the time from starting `cutover abort --admin x3` (the built
 * binary, so node's start-up is in the figure, as on-call lives it) until every replica's data
 * plane answers from legacy (each polled every few ms); then Redis comes back empty, the abort
 * lands in the store, a resume clears it and V2 serves again before the next run. Target p99 <= 1 s.
 *
 * Options: --iterations N (default 50), --break-glass-runs N (default 20), --only break-glass,
 * --out FILE (default reports/bench/abort.json). Writes the JSON report (schemaVersion 1) and
 * prints a table.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  abort,
  changeState,
  initialStateFromConfig,
  openStateStore,
  ReplicaAgent,
  waitForApplied,
  type RolloutState,
  type StateStore,
} from '../shared/state/index.js';
import { freePort, startRedis, stopAll, track, type RedisHandle, type Spawned } from '../test/helpers/processes.js';

const ROOT = resolve(import.meta.dirname, '..');
const argv = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : dflt;
};

const SEED = {
  routes: [
    { name: 'balance', mode: 'canary', weight: 10 },
    { name: 'transactions', mode: 'mirror', weight: 0 },
  ],
  defaultRoute: { name: 'default', mode: 'legacy', weight: 0 },
};

const now = () => performance.timeOrigin + performance.now();

// ---------------------------------------------------------------------------------------------
// Child: one replica

async function replicaMain(url: string, id: string): Promise<void> {
  const store = openStateStore(url);
  const agent = new ReplicaAgent(store, { id, heartbeatMs: 1000, seed: () => initialStateFromConfig(SEED as never) }, (s) => {
    process.stdout.write(`${JSON.stringify({ event: 'applied', version: s.version, epoch: s.epoch, at: now() })}\n`);
  });
  await agent.start();
  process.stdout.write(`${JSON.stringify({ event: 'ready', id })}\n`);
  setInterval(() => undefined, 1 << 30); // the agent's timers do not hold the process
  process.on('SIGTERM', () => void agent.stop({ deregister: true }).then(() => process.exit(0)));
}

// ---------------------------------------------------------------------------------------------
// Parent

interface Replica {
  child: ChildProcess;
  applied: Map<string, number>;
  ready: Promise<void>;
}

function spawnReplica(url: string, id: string): Replica {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'benchmarks', 'abort.ts'), '--replica', url, id], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const applied = new Map<string, number>();
  let buf = '';
  let onReady: () => void;
  const ready = new Promise<void>((r) => (onReady = r));
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      const e = JSON.parse(line) as { event: string; version?: number; epoch?: string; at?: number };
      if (e.event === 'ready') onReady();
      if (e.event === 'applied') applied.set(`${e.epoch}:${e.version}`, e.at!);
    }
  });
  return { child, applied, ready };
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[rank - 1]!;
}

function summary(samples: number[]) {
  const s = [...samples].sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 100) / 100;
  return { n: s.length, min: r(s[0]!), p50: r(quantile(s, 0.5)), p99: r(quantile(s, 0.99)), max: r(s[s.length - 1]!) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitAll(replicas: Replica[], key: string, timeoutMs: number): Promise<number[] | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const times = replicas.map((r) => r.applied.get(key));
    if (times.every((t) => t !== undefined)) return times as number[];
    if (Date.now() > deadline) return undefined;
    await sleep(2);
  }
}

async function abortLoop(url: string, iterations: number) {
  const replicas = ['r1', 'r2', 'r3'].map((id) => spawnReplica(url, id));
  const store: StateStore = openStateStore(url);
  try {
    await Promise.all(replicas.map((r) => r.ready));
    const applied: number[] = [];
    const acked: number[] = [];
    const resumes: number[] = [];
    let failures = 0;
    const warmup = 5;
    for (let i = 0; i < warmup + iterations; i++) {
      const s = (await store.read()) as RolloutState;
      const tr = abort(s, { reason: `bench abort ${i}` });
      const t0perf = performance.now();
      const t0 = performance.timeOrigin + t0perf;
      const written = await store.compareAndSet(s.version, tr.next, { by: 'bench', action: 'abort', reason: `bench abort ${i}`, changes: tr.changes });
      const wait = await waitForApplied(store, written, 2000, { startedAt: t0perf });
      const times = await waitAll(replicas, `${written.epoch}:${written.version}`, 2000);
      if (i >= warmup) {
        if (!wait.ok || !times || wait.appliedBy.length !== 3) failures++;
        else {
          acked.push(wait.elapsedMs);
          applied.push(Math.max(...times) - t0);
        }
      }
      const r0 = now();
      const res = await changeState(store, { action: 'resume' }, { by: 'bench', reason: `bench resume ${i}` });
      const rt = await waitAll(replicas, `${res.state.epoch}:${res.state.version}`, 2000);
      if (i >= warmup && rt) resumes.push(Math.max(...rt) - r0);
      await sleep(10);
    }
    return { applied: summary(applied), acknowledged: summary(acked), resumeApplied: summary(resumes), failures };
  } finally {
    for (const r of replicas) r.child.kill('SIGTERM');
    await Promise.all(replicas.map((r) => new Promise((res) => (r.child.exitCode !== null ? res(null) : r.child.once('exit', res)))));
    await store.close();
  }
}

function wallTimes(args: string[], runs: number) {
  const bin = join(ROOT, 'bin', 'cutover.js');
  const times: number[] = [];
  let code: number | null = 0;
  for (let i = 0; i < runs + 1; i++) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [bin, ...args], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    const ms = performance.now() - t0;
    code = r.status;
    if (i > 0) times.push(ms); // the first run warms the disk cache
  }
  return { ...summary(times), median: summary(times).p50, exitCode: code };
}

// ---------------------------------------------------------------------------------------------
// Break-glass: the store down, `cutover abort` through the replicas' admin planes

const BG_TOKEN = 'bench-admin-token-0123456789';

async function startSide(name: string, port: number): Promise<{ url: string; close(): Promise<void> }> {
  const http = await import('node:http');
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ served: name }));
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(() => r())) };
}

async function side(dataUrl: string): Promise<string | undefined> {
  try {
    const res = await fetch(`${dataUrl}/balance`, { signal: AbortSignal.timeout(1000) });
    await res.arrayBuffer();
    return res.headers.get('x-cutover-upstream') ?? undefined;
  } catch {
    return undefined;
  }
}

/** Resolves with the time (ms, performance clock) at which `dataUrl` first answers from `want`. */
async function firstServedBy(dataUrl: string, want: string, deadline: number): Promise<number | undefined> {
  while (performance.now() < deadline) {
    if ((await side(dataUrl)) === want) return performance.now();
    await sleep(3);
  }
  return undefined;
}

async function breakGlassLoop(runs: number) {
  const dir = mkdtempSync(join(tmpdir(), 'cutover-bench-bg-'));
  const legacy = await startSide('legacy', await freePort());
  const v2 = await startSide('v2', await freePort());
  let redis: RedisHandle = await startRedis();
  const bin = join(ROOT, 'bin', 'cutover.js');
  const proxies: Array<{ id: string; dataUrl: string; adminUrl: string; proc: Spawned }> = [];
  const samples: number[] = [];
  let failures = 0;
  const cli = (args: string[]) =>
    new Promise<{ code: number | null; out: string }>((res) => {
      const c = spawn(process.execPath, [bin, ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      c.stdout.on('data', (d) => (out += d));
      c.stderr.on('data', (d) => (out += d));
      c.on('exit', (code) => res({ code, out }));
    });
  try {
    for (const id of ['bg1', 'bg2', 'bg3']) {
      const dataPort = await freePort();
      const adminPort = await freePort();
      const file = join(dir, `${id}.yaml`);
      writeFileSync(
        file,
        `upstreams: { legacy: ${legacy.url}, v2: ${v2.url} }
listen: { data: 127.0.0.1:${dataPort}, admin: 127.0.0.1:${adminPort} }
state: ${redis.url}
adminToken: ${BG_TOKEN}
replicaId: ${id}
localState: ${join(dir, `${id}-local`)}
routes:
  - name: balance
    match: { method: GET, path: /balance }
    mode: canary
    weight: 100
    stickyBy: none
`,
      );
      const proc = track(spawn(process.execPath, [bin, 'proxy', '--config', file], { cwd: ROOT, env: { ...process.env, CUTOVER_LOG_LEVEL: process.env.BENCH_BG_LOGS ? 'debug' : 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] }));
      proxies.push({ id, dataUrl: `http://127.0.0.1:${dataPort}`, adminUrl: `http://127.0.0.1:${adminPort}`, proc });
    }
    for (const p of proxies) await p.proc.waitForOutput(/ready: rollout state version/, 60_000);
    const admins = proxies.flatMap((p) => ['--admin', p.adminUrl]);
    for (let i = 0; i < runs; i++) {
      // every replica on V2 before the store goes down
      const ready = await Promise.all(proxies.map((p) => firstServedBy(p.dataUrl, 'v2', performance.now() + 20_000)));
      if (ready.some((t) => t === undefined)) {
        const seen = await Promise.all(proxies.map(async (p) => `${p.id}: ${(await side(p.dataUrl)) ?? 'no answer'}, admin ${await fetch(`${p.adminUrl}/admin/state`, { headers: { authorization: `Bearer ${BG_TOKEN}` } }).then((r) => r.text()).catch((e: Error) => e.message)}`));
        if (process.env.BENCH_BG_LOGS) for (const p of proxies) writeFileSync(join(process.env.BENCH_BG_LOGS, `${p.id}.log`), p.proc.output());
        throw new Error(`run ${i}: the replicas did not ${i === 0 ? 'start on V2' : 'go back to V2 after the resume'}:\n${seen.join('\n')}`);
      }
      await redis.stop();
      const t0 = performance.now();
      const run = cli(['abort', ...admins, '--token', BG_TOKEN, '--reason', `bench break-glass ${i}`, '--json']);
      const times = await Promise.all(proxies.map((p) => firstServedBy(p.dataUrl, 'legacy', t0 + 10_000)));
      const out = await run;
      if (times.some((t) => t === undefined) || out.code !== 0) {
        failures++;
        process.stderr.write(`break-glass run ${i}: exit ${out.code}: ${out.out.slice(0, 300)}
`);
      } else {
        samples.push(Math.max(...(times as number[])) - t0);
      }
      // store back (empty): the replicas restore it and write the abort they hold; resume clears it
      redis = await startRedis(redis.port);
      const store = openStateStore(redis.url);
      try {
        const deadline = Date.now() + 20_000;
        for (;;) {
          const s = await store.read().catch(() => undefined);
          if (s?.aborted && s.abortReason === `bench break-glass ${i}`) break;
          if (Date.now() > deadline) throw new Error(`run ${i}: the abort did not reach the store`);
          await sleep(20);
        }
        // resume clears the abort; the abort moved the route to legacy, so ramp it again
        await changeState(store, { action: 'resume' }, { by: 'bench', reason: `bench resume ${i}` });
        await changeState(store, { action: 'mode', route: 'balance', mode: 'canary' }, { by: 'bench', reason: `bench ramp ${i}` });
        await changeState(store, { action: 'set-weight', route: 'balance', weight: 100, force: true }, { by: 'bench', reason: `bench ramp ${i}` });
      } finally {
        await store.close();
      }
    }
    return { ...summary(samples), failures, runs };
  } finally {
    for (const p of proxies) await p.proc.stop('SIGTERM');
    await redis.stop();
    await legacy.close();
    await v2.close();
  }
}

async function breakGlassOnly(runs: number, out: string): Promise<void> {
  const bg = await breakGlassLoop(runs);
  const report = {
    schemaVersion: 1,
    benchmark: 'abort-break-glass',
    at: new Date().toISOString(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? '', node: process.version, platform: process.platform },
    method: 'see breakGlass in benchmarks/abort.ts: from spawning `cutover abort --admin x3` (built binary) with Redis SIGKILLed to the last of 3 proxies answering from legacy',
    breakGlass: bg,
    targets: { breakGlassP99Ms: 1000 },
    pass: { breakGlassP99: bg.p99 <= 1000 && bg.failures === 0 },
  };
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(report, null, 2) + '\n');
  process.stdout.write(
    `break-glass abort, 3 replicas, Redis down (ms): p50 ${bg.p50}  p99 ${bg.p99}  min ${bg.min}  max ${bg.max}  n ${bg.n}  failures ${bg.failures}; target p99 <= 1000 ms (${report.pass.breakGlassP99 ? 'met' : 'NOT met'})\nwritten: ${out}\n`,
  );
}

async function main(): Promise<void> {
  const iterations = Number(opt('iterations', '50'));
  const out = resolve(ROOT, opt('out', 'reports/bench/abort.json'));
  if (!existsSync(join(ROOT, 'dist', 'rollout-cli', 'main.js'))) {
    process.stderr.write('bench:abort: dist/ is missing: run `npm run build` first (the CLI timings use the built binary)\n');
    process.exit(2);
  }

  const bgRuns = Number(opt('break-glass-runs', '20'));
  if (opt('only', '') === 'break-glass') {
    try {
      await breakGlassOnly(bgRuns, resolve(ROOT, opt('out', 'reports/bench/abort-break-glass.json')));
    } finally {
      await stopAll();
    }
    return;
  }
  const redis = await startRedis();
  let redisResult;
  let fileResult;
  let cli;
  let breakGlass;
  try {
    redisResult = await abortLoop(redis.url, iterations);
    const fileUrl = `file://${join(mkdtempSync(join(tmpdir(), 'cutover-bench-abort-')), 'state.json')}`;
    fileResult = await abortLoop(fileUrl, iterations);
    cli = {
      help: wallTimes(['--help'], 10),
      statusJsonRedis: wallTimes(['status', '--json', '--state', redis.url], 10),
      statusJsonFile: wallTimes(['status', '--json', '--state', fileUrl], 10),
    };
    breakGlass = await breakGlassLoop(bgRuns);
  } finally {
    await redis.stop();
    await stopAll();
  }

  const report = {
    schemaVersion: 1,
    benchmark: 'abort',
    at: new Date().toISOString(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? '', node: process.version, platform: process.platform },
    method:
      '3 replica agents in 3 child processes; per abort: applied = start of the compare-and-set to the last replica applying it (replica clock = machine clock); acknowledged = same start to this process seeing the last acknowledgement; 5 warm-up rounds not counted; each abort followed by a resume; quantiles are nearest-rank (p99 of 50 samples = the slowest)',
    iterations,
    replicas: 3,
    redis: redisResult,
    file: fileResult,
    cli,
    breakGlass,
    targets: { abortAppliedP99Ms: 50, breakGlassP99Ms: 1000, cliMs: 300 },
    pass: {
      abortAppliedP99: redisResult!.applied.p99 <= 50 && redisResult!.failures === 0,
      breakGlassP99: breakGlass!.p99 <= 1000 && breakGlass!.failures === 0,
      help: cli!.help.median <= 300,
      statusJson: cli!.statusJsonRedis.median <= 300,
    },
  };
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(report, null, 2) + '\n');

  const row = (name: string, s: { min: number; p50: number; p99: number; max: number; n: number }) =>
    `${name.padEnd(40)} ${String(s.p50).padStart(8)} ${String(s.p99).padStart(8)} ${String(s.min).padStart(8)} ${String(s.max).padStart(8)} ${String(s.n).padStart(4)}`;
  const lines = [
    `${'abort, 3 replicas (ms)'.padEnd(40)} ${'p50'.padStart(8)} ${'p99'.padStart(8)} ${'min'.padStart(8)} ${'max'.padStart(8)} ${'n'.padStart(4)}`,
    row('redis: write -> last replica applied', redisResult!.applied),
    row('redis: write -> last ack seen', redisResult!.acknowledged),
    row('redis: resume -> last replica applied', redisResult!.resumeApplied),
    row('file: write -> last replica applied', fileResult!.applied),
    row('file: write -> last ack seen', fileResult!.acknowledged),
    row('break-glass (Redis down): CLI start -> all 3 on legacy', breakGlass!),
    '',
    `${'built CLI wall time (ms)'.padEnd(40)} ${'median'.padStart(8)} ${'p99'.padStart(8)} ${'min'.padStart(8)} ${'max'.padStart(8)} ${'n'.padStart(4)}`,
    row('cutover --help', { ...cli!.help, p50: cli!.help.median }),
    row('cutover status --json (redis)', { ...cli!.statusJsonRedis, p50: cli!.statusJsonRedis.median }),
    row('cutover status --json (file)', { ...cli!.statusJsonFile, p50: cli!.statusJsonFile.median }),
    '',
    `failures: redis ${redisResult!.failures}, file ${fileResult!.failures}; targets: abort p99 <= 50 ms (${report.pass.abortAppliedP99 ? 'met' : 'NOT met'}), --help <= 300 ms (${report.pass.help ? 'met' : 'NOT met'}), status --json <= 300 ms (${report.pass.statusJson ? 'met' : 'NOT met'})`,
    `written: ${out}`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

if (argv[0] === '--replica') {
  await replicaMain(argv[1]!, argv[2]!);
} else {
  await main();
}
