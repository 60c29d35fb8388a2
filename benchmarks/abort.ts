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
 * Options: --iterations N (default 50), --out FILE (default reports/bench/abort.json).
 * Writes the JSON report (schemaVersion 1) and prints a table.
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
import { startRedis, stopAll } from '../test/helpers/processes.js';

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

async function main(): Promise<void> {
  const iterations = Number(opt('iterations', '50'));
  const out = resolve(ROOT, opt('out', 'reports/bench/abort.json'));
  if (!existsSync(join(ROOT, 'dist', 'rollout-cli', 'main.js'))) {
    process.stderr.write('bench:abort: dist/ is missing: run `npm run build` first (the CLI timings use the built binary)\n');
    process.exit(2);
  }

  const redis = await startRedis();
  let redisResult;
  let fileResult;
  let cli;
  try {
    redisResult = await abortLoop(redis.url, iterations);
    const fileUrl = `file://${join(mkdtempSync(join(tmpdir(), 'cutover-bench-abort-')), 'state.json')}`;
    fileResult = await abortLoop(fileUrl, iterations);
    cli = {
      help: wallTimes(['--help'], 10),
      statusJsonRedis: wallTimes(['status', '--json', '--state', redis.url], 10),
      statusJsonFile: wallTimes(['status', '--json', '--state', fileUrl], 10),
    };
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
    targets: { abortAppliedP99Ms: 50, cliMs: 300 },
    pass: {
      abortAppliedP99: redisResult!.applied.p99 <= 50 && redisResult!.failures === 0,
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
