/**
 * `npm run bench:verifier`: how fast the verifier diffs, and what diffing costs the proxy's
 * event loop.
 *
 * - pairs per second on one core (one thread, compare + redact + cap) for ~600-byte balance
 *   pairs and ~100 KB transaction-list pairs, with the demo's V2 forms (string decimals,
 *   offsets in timestamps, keyed arrays in another order);
 * - the 200,000-account hierarchy pair (built here: two 200k-element account arrays, V2's with
 *   string decimals and in reverse order, one account one cent off): time to a verdict in a
 *   worker thread, as the pipeline runs it, and inline for reference;
 * - event-loop delay p99 of the main thread while pairs are offered at a fixed rate, into a sink
 *   that drops them (diffing off) and into the VerifierPipeline with one worker (diffing on).
 *
 * - hostile number literals (issue 15): the 29-byte `[1.000000000000001e99999999]` pair and its
 *   kin (overflow, underflow, a string shaped like the parser's mark, a 100 KB literal): the
 *   slowest single judgment of each, inline, target <= 10 ms.
 *
 * Three rounds, alternated, medians with min-max. Writes reports/bench/verifier.json.
 * `--quick` shortens the rounds; `--hostile` runs only the hostile-literal pairs (seconds).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { Piscina } from 'piscina';
import type { MirroredPair, PairSink } from '../shared/pairs.js';
import { packPairs, unpackVerdicts } from '../verifier/batch-codec.js';
import { VerifierPipeline } from '../verifier/pipeline.js';
import type { RouteSettingsTable } from '../verifier/rules.js';
import { prepareContext, verifyOne, type TaskContext } from '../verifier/task.js';

const ROOT = resolve(import.meta.dirname, '..');
const QUICK = process.argv.includes('--quick');
const ROUNDS = 3;
const THROUGHPUT_MS = QUICK ? 700 : 2000;
const LOOP_SECONDS = QUICK ? 2 : 5;
const OFFER_RATE = 5000;
const LOOP_ROUNDS = QUICK ? 3 : 5;

const rulesBalance = {
  ignore: ['/asOf', '/requestId', '/links'],
  decimal: ['/balance', '/available', '/overdraftLimit', '/holds/*/amount'],
  timestamp: ['/holds/*/createdAt', '/holds/*/expiresAt'],
  unorderedArrays: { '/holds': 'id' },
  tolerance: {},
  headers: ['content-type'],
};
const rulesTransactions = {
  ignore: ['/requestId', '/links'],
  decimal: ['/transactions/*/amount'],
  timestamp: ['/transactions/*/postedAt'],
  unorderedArrays: { '/transactions': 'id' },
  tolerance: {},
  headers: ['content-type'],
};
const rulesHierarchy = {
  ignore: ['/asOf', '/requestId'],
  decimal: ['/balance', '/accounts/*/balance'],
  timestamp: [],
  unorderedArrays: { '/accounts': 'accountId' },
  tolerance: {},
  headers: ['content-type'],
};

const routes: RouteSettingsTable = {
  byRoute: {
    balance: { compare: rulesBalance, maxBodyBytes: 1_048_576 },
    transactions: { compare: rulesTransactions, maxBodyBytes: 1_048_576 },
    'hierarchy-balance': { compare: rulesHierarchy, maxBodyBytes: 256 * 1_048_576 },
  },
  fallback: {},
};
const taskContext: TaskContext = { routes };

function money(minor: number): number {
  return minor / 100;
}
function moneyText(minor: number): string {
  const s = String(Math.abs(minor)).padStart(3, '0');
  return `${minor < 0 ? '-' : ''}${s.slice(0, -2)}.${s.slice(-2)}`;
}
function legacyTime(ms: number): string {
  return new Date(ms).toISOString();
}
function v2Time(ms: number): string {
  // the same instant with a +02:00 offset
  const d = new Date(ms + 2 * 3_600_000).toISOString().replace('Z', '');
  return `${d}+02:00`;
}
const json = { 'content-type': 'application/json; charset=utf-8' };

function pair(route: string, legacy: unknown, v2: unknown, i: number): MirroredPair {
  return {
    id: `b${i}`,
    at: new Date().toISOString(),
    route,
    method: 'GET',
    path: `/bench/${i}`,
    requestHeaders: {},
    legacy: { status: 200, headers: json, body: JSON.stringify(legacy), latencyMs: 3 },
    v2: { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(v2), latencyMs: 4 },
  };
}

function balancePair(i: number, drift = 0): MirroredPair {
  const t = Date.UTC(2025, 2, 1, 10, 0, 0) + i * 1000;
  const holds = [
    { id: `H-${i}-1`, amount: 1250, reason: 'card authorisation', createdAt: t - 3_600_000, expiresAt: t + 86_400_000 },
    { id: `H-${i}-2`, amount: 9905, reason: 'pending transfer', createdAt: t - 7_200_000, expiresAt: t + 172_800_000 },
  ];
  const legacy = {
    accountId: `A-${String(i).padStart(6, '0')}`,
    memberId: `M-${String(i % 800).padStart(6, '0')}`,
    name: 'Everyday checking',
    type: 'checking',
    status: 'active',
    currency: 'EUR',
    overdraftLimit: 500,
    balance: money(1_234_550 + i),
    available: money(1_222_395 + i),
    holds: holds.map((h) => ({ id: h.id, amount: money(h.amount), currency: 'EUR', reason: h.reason, createdAt: legacyTime(h.createdAt), expiresAt: legacyTime(h.expiresAt) })),
    asOf: legacyTime(t),
    requestId: `req-${i}-legacy`,
  };
  const v2 = {
    accountId: legacy.accountId,
    memberId: legacy.memberId,
    name: legacy.name,
    type: 'checking',
    status: 'active',
    currency: 'EUR',
    overdraftLimit: '500.00',
    balance: moneyText(1_234_550 + i + drift),
    available: moneyText(1_222_395 + i),
    holds: holds.reverse().map((h) => ({ id: h.id, amount: moneyText(h.amount), currency: 'EUR', reason: h.reason, createdAt: v2Time(h.createdAt), expiresAt: v2Time(h.expiresAt) })),
    asOf: v2Time(t + 3),
    requestId: `req-${i}-v2`,
    links: { self: `/accounts/${legacy.accountId}/balance` },
  };
  return pair('balance', legacy, v2, i);
}

function transactionsPair(n: number): MirroredPair {
  const t0 = Date.UTC(2025, 0, 1);
  const txns = Array.from({ length: n }, (_, k) => ({
    id: `T-${String(k).padStart(8, '0')}`,
    accountId: 'A-000001',
    type: k % 3 ? 'debit' : 'credit',
    amount: (k % 3 ? -1 : 1) * (1000 + ((k * 7919) % 100_000)),
    currency: 'EUR',
    description: `Card payment ${k} at merchant ${(k * 31) % 997}`,
    postedAt: t0 + k * 3_600_000,
  }));
  const legacy = { accountId: 'A-000001', transactions: txns.map((x) => ({ ...x, amount: money(x.amount), postedAt: legacyTime(x.postedAt) })), requestId: 'r1' };
  const v2 = {
    accountId: 'A-000001',
    transactions: [...txns].reverse().map((x) => ({ ...x, amount: moneyText(x.amount), postedAt: v2Time(x.postedAt) })),
    requestId: 'r2',
    links: { next: null },
  };
  return pair('transactions', legacy, v2, 0);
}

function hierarchyPair(n: number): MirroredPair {
  const accounts = Array.from({ length: n }, (_, k) => ({ accountId: `A-${String(k).padStart(7, '0')}`, branchId: `N-BIG-${String(Math.floor(k / 400)).padStart(3, '0')}`, minor: 10_000 + ((k * 104_729) % 9_000_000) }));
  const total = accounts.reduce((s, a) => s + a.minor, 0);
  const legacy = {
    hierarchyId: 'H-BIG',
    currency: 'USD',
    balance: money(total),
    accountCount: n,
    accounts: accounts.map((a) => ({ accountId: a.accountId, branchId: a.branchId, balance: money(a.minor) })),
    asOf: legacyTime(Date.now()),
    requestId: 'r1',
  };
  const v2 = {
    hierarchyId: 'H-BIG',
    currency: 'USD',
    balance: moneyText(total),
    accountCount: n,
    accounts: [...accounts].reverse().map((a, k) => ({ accountId: a.accountId, branchId: a.branchId, balance: moneyText(a.minor + (k === 12_345 ? 1 : 0)) })),
    asOf: v2Time(Date.now()),
    requestId: 'r2',
  };
  return pair('hierarchy-balance', legacy, v2, 0);
}

/** CPU time of the calling thread (Linux /proc, 10 ms ticks); NaN elsewhere. */
function threadCpuMs(): number {
  try {
    const f = readFileSync('/proc/thread-self/stat', 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return NaN;
  }
}

function stats(xs: number[]): { median: number; min: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], min: s[0], max: s[s.length - 1] };
}

interface Rate {
  /** Pairs per second of wall time on one thread. */
  wall: number;
  /** Pairs per CPU-second of this process (one thread diffing; GC threads count against it). */
  cpu: number;
}

function throughput(make: (i: number) => MirroredPair, variants: number): Rate {
  const ctx = prepareContext(taskContext);
  const pairs = Array.from({ length: variants }, (_, i) => make(i));
  for (let i = 0; i < 200; i++) verifyOne(pairs[i % variants], ctx); // warm up
  let n = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let now = t0;
  while (now - t0 < THROUGHPUT_MS) {
    for (let k = 0; k < 50; k++) verifyOne(pairs[n++ % variants], ctx);
    now = performance.now();
  }
  const cpu = process.cpuUsage(cpu0);
  return { wall: (n / (now - t0)) * 1000, cpu: n / ((cpu.user + cpu.system) / 1e6) };
}

function workerFile(): string {
  return new URL('../verifier/worker-tsx.mjs', import.meta.url).href;
}

class DroppingSink implements PairSink {
  n = 0;
  offer(): boolean {
    this.n++;
    return true;
  }
}

/** Offers pre-built pairs at OFFER_RATE for LOOP_SECONDS; returns the event-loop delay p99 and max (ms). */
interface LoopRound {
  p99: number;
  p50: number;
  max: number;
  offered: number;
  /** Share of the time the main thread was busy (event-loop utilisation). */
  elu: number;
}

async function eventLoopDelay(sink: PairSink, pairs: MirroredPair[]): Promise<LoopRound> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  const elu0 = performance.eventLoopUtilization();
  const perTick = OFFER_RATE / 1000; // every ms
  let offered = 0;
  const t0 = performance.now();
  h.enable();
  await new Promise<void>((done) => {
    const timer = setInterval(() => {
      const due = Math.floor(((performance.now() - t0) / 1000) * OFFER_RATE);
      while (offered < due) sink.offer(pairs[offered++ % pairs.length]);
      if (performance.now() - t0 >= LOOP_SECONDS * 1000) {
        clearInterval(timer);
        done();
      }
    }, 1);
    void perTick;
  });
  h.disable();
  const elu = performance.eventLoopUtilization(elu0).utilization;
  return { p99: h.percentile(99) / 1e6, p50: h.percentile(50) / 1e6, max: h.max / 1e6, offered, elu };
}

function fmt(n: number, d = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
}

const HOSTILE: Array<[string, string, string]> = [
  ['[1.000000000000001e99999999] vs [1e99999999]', '[1.000000000000001e99999999]', '[1e99999999]'],
  ['1e400 vs 2e400', '{"a":1e400}', '{"a":2e400}'],
  ['3e-324 vs 5e-324', '{"a":3e-324}', '{"a":5e-324}'],
  ['"\\u0000#1234...890" vs 1234...890', '["\\u0000#12345678901234567890"]', '[12345678901234567890]'],
  ['100 KB literal, last digit off', `[${'7'.repeat(100_000)}]`, `[${'7'.repeat(99_999)}8]`],
  ['100 KB literal vs same value, other exponent', `[${'7'.repeat(100_000)}e5]`, `[${'7'.repeat(100_000)}00000]`],
];

/**
 * Each hostile pair judged `reps` times inline, per round: CPU of this thread per judgment (the
 * figure a loaded machine does not inflate), the median and p99 of the wall time.
 */
function hostileRounds(reps: number): Array<{ name: string; bytes: number; result: string; cpuMs: number[]; medianMs: number[]; p99Ms: number[] }> {
  const ctx = prepareContext(taskContext);
  return HOSTILE.map(([name, a, b]) => {
    const p = pair('hostile', a, b, 0);
    p.legacy.body = a;
    p.v2.body = b;
    const cpuMs: number[] = [];
    const medianMs: number[] = [];
    const p99Ms: number[] = [];
    let result = '';
    for (let r = 0; r < ROUNDS; r++) {
      const times: number[] = [];
      const c = threadCpuMs();
      for (let i = 0; i < reps; i++) {
        const t = performance.now();
        result = verifyOne(p, ctx).result;
        times.push(performance.now() - t);
      }
      cpuMs.push((threadCpuMs() - c) / reps);
      times.sort((x, y) => x - y);
      medianMs.push(times[times.length >> 1]);
      p99Ms.push(times[Math.min(times.length - 1, Math.floor(times.length * 0.99))]);
    }
    return { name, bytes: a.length + b.length, result, cpuMs, medianMs, p99Ms };
  });
}

function printHostile(rows: ReturnType<typeof hostileRounds>): boolean {
  let met = true;
  console.log('\nhostile number literals (one judgment, inline; target <= 10 ms of CPU and of median wall time):');
  for (const h of rows) {
    const cpu = stats(h.cpuMs);
    const med = stats(h.medianMs);
    const p99 = stats(h.p99Ms);
    const ok = cpu.median <= 10 && med.median <= 10;
    met &&= ok;
    console.log(
      `  ${h.name.padEnd(46)} ${h.result.padEnd(9)} CPU ${fmt(cpu.median, 3)} ms (${fmt(cpu.min, 3)}-${fmt(cpu.max, 3)}), wall median ${fmt(med.median, 3)} ms, p99 ${fmt(p99.median, 2)} ms  ${ok ? 'met' : 'MISSED'}`,
    );
  }
  return met;
}

async function main(): Promise<void> {
  if (process.argv.includes('--hostile')) {
    console.log(`verifier benchmark, hostile literals only: ${ROUNDS} rounds of 200 judgments each, node ${process.version}`);
    printHostile(hostileRounds(200));
    return;
  }
  const small = balancePair(1);
  const smallBytes = Math.round((small.legacy.body.length + small.v2.body.length) / 2);
  const large = transactionsPair(560);
  const largeBytes = Math.round((large.legacy.body.length + large.v2.body.length) / 2);

  // sanity: the equivalent pairs give no finding, the drift gives exactly one
  const ctx = prepareContext(taskContext);
  const clean = verifyOne(small, ctx);
  const drift = verifyOne(balancePair(2, 1), ctx);
  const big = verifyOne(large, ctx);
  if (clean.findings.length || big.findings.length || drift.findings.map((f) => f.path).join() !== '/balance') {
    throw new Error(`benchmark pairs are not what they should be: ${JSON.stringify([clean.findings, drift.findings, big.findings]).slice(0, 500)}`);
  }

  console.log(`verifier benchmark (${QUICK ? 'quick' : 'full'}): ${ROUNDS} rounds, node ${process.version}, ${cpus().length} cpus`);
  const smallRates: Rate[] = [];
  const smallDriftRates: Rate[] = [];
  const largeRates: Rate[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    smallRates.push(throughput((i) => balancePair(i), 64));
    largeRates.push(throughput(() => large, 1));
    smallDriftRates.push(throughput((i) => balancePair(i, i % 2), 64));
  }

  const hier = hierarchyPair(200_000);
  const hierBytes = hier.legacy.body.length + hier.v2.body.length;
  const inlineMs: number[] = [];
  const inlineCpuMs: number[] = [];
  const workerMs: number[] = [];
  const pool = new Piscina({ filename: workerFile(), minThreads: 1, maxThreads: 1, workerData: taskContext });
  let hierFindings = '';
  try {
    await pool.run(packPairs([balancePair(0)])); // start the worker
    for (let r = 0; r < ROUNDS; r++) {
      let t = performance.now();
      const c = threadCpuMs();
      const v = verifyOne(hier, ctx);
      inlineMs.push(performance.now() - t);
      inlineCpuMs.push(threadCpuMs() - c);
      hierFindings = v.findings.map((f) => `${f.pointer} ${f.kind} ${JSON.stringify(f.legacy)} -> ${JSON.stringify(f.v2)}`).join('; ');
      t = performance.now();
      // As the pipeline does it: the batch goes packed, the verdicts come back packed.
      const [w] = unpackVerdicts((await pool.run(packPairs([hier]))) as unknown[]);
      workerMs.push(performance.now() - t);
      if (w.findings.length !== 1) throw new Error(`the 200k pair should give one finding, got ${w.findings.length}`);
    }
  } finally {
    await pool.destroy();
  }

  const loopPairs = Array.from({ length: 256 }, (_, i) => balancePair(i, i % 50 === 0 ? 1 : 0));
  const off: LoopRound[] = [];
  const on: LoopRound[] = [];
  let pipelineStats: unknown;
  const mainUsPerPair: number[] = [];
  const mainMaxBlockMs: number[] = [];
  for (let r = 0; r < LOOP_ROUNDS; r++) {
    off.push(await eventLoopDelay(new DroppingSink(), loopPairs));
    const p = new VerifierPipeline({ workers: 1, routes, queueSize: 10_000 });
    try {
      await new Promise((res) => setTimeout(res, 300)); // worker up
      on.push(await eventLoopDelay(p, loopPairs));
      await p.drain();
      const st = p.stats();
      pipelineStats = st;
      mainUsPerPair.push((st.mainThreadMs.total * 1000) / Math.max(1, st.verified));
      mainMaxBlockMs.push(st.mainThreadMs.maxBlock);
    } finally {
      await p.close();
    }
  }

  const hostile = hostileRounds(QUICK ? 50 : 200);

  const offP99 = stats(off.map((x) => x.p99));
  const onP99 = stats(on.map((x) => x.p99));
  const result = {
    schemaVersion: 1,
    generatedAt: new Date().toISOString(),
    quick: QUICK,
    machine: { node: process.version, cpus: cpus().length, model: cpus()[0]?.model },
    rounds: ROUNDS,
    loopRounds: LOOP_ROUNDS,
    smallPair: {
      bytesPerSide: smallBytes,
      pairsPerCpuSecond: stats(smallRates.map((r) => r.cpu)),
      pairsPerWallSecond: stats(smallRates.map((r) => r.wall)),
      withDriftPairsPerCpuSecond: stats(smallDriftRates.map((r) => r.cpu)),
      target: 20_000,
    },
    largePair: { bytesPerSide: largeBytes, pairsPerCpuSecond: stats(largeRates.map((r) => r.cpu)), pairsPerWallSecond: stats(largeRates.map((r) => r.wall)) },
    hierarchy200k: {
      accounts: 200_000,
      bytesBothSides: hierBytes,
      workerMs: stats(workerMs),
      inlineMs: stats(inlineMs),
      inlineThreadCpuMs: stats(inlineCpuMs),
      findings: hierFindings,
      targetMs: 1000,
    },
    hostileLiterals: hostile.map((h) => ({ ...h, cpuMs: stats(h.cpuMs), medianMs: stats(h.medianMs), p99Ms: stats(h.p99Ms), targetMs: 10 })),
    eventLoop: {
      offerRatePerSecond: OFFER_RATE,
      secondsPerRound: LOOP_SECONDS,
      diffingOffP99Ms: offP99,
      diffingOnP99Ms: onP99,
      deltaP99Ms: onP99.median - offP99.median,
      pipelineMainThreadUsPerPair: stats(mainUsPerPair),
      pipelineLongestBlockMs: stats(mainMaxBlockMs),
      mainThreadUtilisationOff: stats(off.map((x) => x.elu)),
      mainThreadUtilisationOn: stats(on.map((x) => x.elu)),
      rounds: { off, on },
      pipelineStats,
      targetDeltaMs: 2,
    },
  };
  const met = {
    smallPair: result.smallPair.pairsPerCpuSecond.median >= 20_000,
    hierarchy200k: result.hierarchy200k.workerMs.median <= 1000,
    eventLoop: result.eventLoop.deltaP99Ms <= 2,
    hostileLiterals: result.hostileLiterals.every((h) => h.cpuMs.median <= 10 && h.medianMs.median <= 10),
  };
  const outDir = join(ROOT, 'reports', 'bench');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'verifier.json'), JSON.stringify({ ...result, targetsMet: met }, null, 2) + '\n');

  const rng = (s: { median: number; min: number; max: number }, d = 0) => `${fmt(s.median, d)} (${fmt(s.min, d)}-${fmt(s.max, d)})`;
  const rows: Array<[string, string, string, string]> = [
    [`~${fmt(smallBytes)} B pairs, equivalent`, `${rng(result.smallPair.pairsPerCpuSecond)} pairs/CPU-s`, '>= 20,000', met.smallPair ? 'met' : 'MISSED'],
    [`  same, per wall second (shared machine)`, `${rng(result.smallPair.pairsPerWallSecond)} pairs/s`, '', ''],
    [`~${fmt(smallBytes)} B pairs, half with a drift`, `${rng(result.smallPair.withDriftPairsPerCpuSecond)} pairs/CPU-s`, '', ''],
    [`~${fmt(largeBytes / 1024)} KB pairs (560 txns)`, `${rng(result.largePair.pairsPerCpuSecond)} pairs/CPU-s`, '', ''],
    ['200k-account pair, worker', `${rng(result.hierarchy200k.workerMs)} ms`, '<= 1000 ms', met.hierarchy200k ? 'met' : 'MISSED'],
    ['200k-account pair, inline', `${rng(result.hierarchy200k.inlineMs)} ms`, '', ''],
    ['200k-account pair, CPU of the diffing thread', `${rng(result.hierarchy200k.inlineThreadCpuMs)} ms`, '', ''],
    [`event loop p99, ${fmt(OFFER_RATE)} pairs/s, diffing off`, `${rng(offP99, 2)} ms`, '', ''],
    [`event loop p99, ${fmt(OFFER_RATE)} pairs/s, diffing on`, `${rng(onP99, 2)} ms`, `off + 2 ms`, met.eventLoop ? 'met' : 'MISSED'],
    ['pipeline code on the main thread, per pair', `${rng(result.eventLoop.pipelineMainThreadUsPerPair, 1)} µs`, '', ''],
    ['longest pipeline stretch on the main thread', `${rng(result.eventLoop.pipelineLongestBlockMs, 2)} ms`, '', ''],
    ['main thread busy, diffing off', `${rng(result.eventLoop.mainThreadUtilisationOff, 3)}`, '', ''],
    ['main thread busy, diffing on', `${rng(result.eventLoop.mainThreadUtilisationOn, 3)}`, '', ''],
  ];
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  console.log('');
  for (const [a, b, c, d] of rows) console.log(`${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c.padEnd(10)}  ${d}`);
  console.log(`\n200k pair finding: ${hierFindings}`);
  printHostile(hostile);
  console.log(`wrote reports/bench/verifier.json`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
