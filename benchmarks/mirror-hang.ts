/**
 * `npm run bench:mirror-hang`: what a hanging V2 does to mirror mode. Two targets of
 * /work/shared/performance.md:
 * 1. client p99 unchanged (within 10 %) when V2 hangs: two cutover proxies in mirror mode (as
 *    shipped by proxy-cutover.ts: sample 100, maxInFlight 512, the default mirror timeout), one
 *    copying to a healthy V2 origin, one to an origin that accepts and reads but never answers
 *    (hang-origin.ts). A fixed offered load (autocannon overallRate 2000, 50 connections), runs
 *    alternating healthy / hanging, the order flipped every round; median p99 of each.
 * 2. RSS <= 300 MB after 60 s of max-rate mirroring with V2 hanging: the hanging-V2 proxy at
 *    max rate, its VmRSS from /proc/PID/status every second; start, peak, end.
 * Every client answer must still be a 2xx: non-2xx and errors are counted and printed.
 * The two setups do not do the same work: with a healthy V2 every request's pair is captured and
 * diffed by the verifier (in the proxy's process); with V2 hanging, 512 copies sit in flight until
 * the mirror timeout and every other copy is dropped at the cap (no pair, no diff).
 *
 * Latency: autocannon keeps latencies in whole milliseconds, so its p99 moves in 1 ms steps.
 * This benchmark also keeps every 2xx response time autocannon measured (fractional ms, from
 * its tracker's `response` events) and computes exact percentiles from them; the headline ratio
 * uses those, autocannon's whole-ms figures are reported next to them. autocannon's coordinated
 * omission correction is turned off: with overallRate it computes the expected interval as
 * ceil(1 / per-connection rate) = 1 ms, which back-fills synthetic samples into any answer
 * slower than 1 ms; and its rate limiting sends each connection's share of a second back to
 * back at the start of the second (bursts, not an even 2000/s), so there is no schedule to
 * correct against anyway.
 *
 * The mirror counters come from each proxy's admin plane (proxy-cutover.ts prints its URL).
 *
 * Where `taskset` exists the proxies run on core 0, the origins and the load generator (this
 * process) on core 1. Options: --rounds N (default 3), --memory-seconds N (default 60),
 * --quick (1 round of 5 s runs, 15 s of memory load), --out FILE
 * (default reports/bench/mirror-hang.json).
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, resolve } from 'node:path';
import autocannon from 'autocannon';
import { BALANCE_REQUESTS, PIN, ROOT, cpuTicks, median, startScript, type Started } from './harness.js';

const argv = process.argv.slice(2);
const has = (name: string) => argv.includes(`--${name}`);
const opt = (name: string, dflt: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : dflt;
};
const QUICK = has('quick');
const ROUNDS = Number(opt('rounds', QUICK ? '1' : '3'));
const RUN_SECONDS = QUICK ? 5 : 10;
const WARMUP_SECONDS = 2;
const RATE = 2000;
const CONNECTIONS = 50;
const MEMORY_SECONDS = Number(opt('memory-seconds', QUICK ? '15' : '60'));
const OUT = resolve(ROOT, opt('out', 'reports/bench/mirror-hang.json'));
const P99_RATIO_TARGET = 1.1;
const PEAK_RSS_TARGET_MB = 300;

for (const [name, v] of [['rounds', ROUNDS], ['memory-seconds', MEMORY_SECONDS]] as const) {
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round1 = (x: number) => Math.round(x * 10) / 10;
const round3 = (x: number) => Math.round(x * 1000) / 1000;
/** Nearest-rank percentile of sorted samples. */
const pct = (sorted: Float64Array, p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : NaN);

/** Resident set size of a process in MB (VmRSS, which /proc reports in kB). */
function rssMb(pid: number): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for ${pid}`);
  return Number(m[1]) / 1024;
}

interface MirrorCounters {
  windowSeconds: number;
  sent: number;
  dropped: number;
  timeouts: number;
  errors: number;
  s5xx: number;
  diffPairs: number;
  legacyRequests: number;
}

async function mirrorCounters(admin: string | null, windowSeconds: number): Promise<MirrorCounters | null> {
  if (!admin) return null;
  try {
    const res = await fetch(`${admin}/admin/stats?window=${windowSeconds}s`, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) return null;
    const snap = (await res.json()) as {
      routes: Record<string, { shadow: Record<string, number>; diffs: { pairs: number }; served: { legacy: { requests: number } } }>;
    };
    const r = snap.routes.balance;
    if (!r) return null;
    return {
      windowSeconds,
      sent: r.shadow.sent,
      dropped: r.shadow.dropped,
      timeouts: r.shadow.timeouts,
      errors: r.shadow.errors,
      s5xx: r.shadow.s5xx,
      diffPairs: r.diffs.pairs,
      legacyRequests: r.served.legacy.requests,
    };
  } catch {
    return null;
  }
}

/** Wait (bounded) until every given process stops using CPU: copies left over from a run have finished. */
async function settle(pids: number[], maxMs = 15_000): Promise<void> {
  const until = Date.now() + maxMs;
  let prev = pids.map(cpuTicks);
  while (Date.now() < until) {
    await sleep(500);
    const now = pids.map(cpuTicks);
    const quiet = now.every((t, i) => t - prev[i] <= 5);
    prev = now;
    if (quiet) return;
  }
}

interface LoadOutcome {
  result: autocannon.Result;
  /** Every 2xx response time autocannon measured, in fractional ms, sorted. */
  latencies: Float64Array;
}

/** One autocannon run; `rate` undefined means max rate. */
function load(port: number, seconds: number, rate: number | undefined): Promise<LoadOutcome> {
  const samples: number[] = [];
  return new Promise((res, rej) => {
    const instance = autocannon(
      {
        url: `http://127.0.0.1:${port}`,
        connections: CONNECTIONS,
        duration: seconds,
        requests: BALANCE_REQUESTS,
        ...(rate !== undefined ? { overallRate: rate, ignoreCoordinatedOmission: true } : {}),
      },
      (err, result) => {
        if (err) return rej(err);
        const sorted = Float64Array.from(samples).sort();
        res({ result, latencies: sorted });
      },
    );
    instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
      if (statusCode >= 200 && statusCode < 300) samples.push(responseTime);
    });
  });
}

interface LatencyRun {
  setup: 'healthy' | 'hanging';
  round: number;
  requests: number;
  rps: number;
  /** Exact percentiles of the 2xx response times, fractional ms. */
  exactMs: { p50: number; p99: number; p999: number; max: number };
  /** autocannon's own percentiles (whole ms). */
  autocannonMs: { p50: number; p99: number; p999: number | null; max: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  mirror: MirrorCounters | null;
}

async function latencyRun(setup: 'healthy' | 'hanging', round: number, proxy: Started, admin: string | null): Promise<LatencyRun> {
  await load(proxy.port, WARMUP_SECONDS, RATE);
  const { result: r, latencies } = await load(proxy.port, RUN_SECONDS, RATE);
  const mirror = await mirrorCounters(admin, RUN_SECONDS);
  const lat = r.latency as autocannon.Histogram & { p99_9?: number };
  return {
    setup,
    round,
    requests: r.requests.total,
    rps: Math.round(r.requests.total / RUN_SECONDS),
    exactMs: { p50: round3(pct(latencies, 50)), p99: round3(pct(latencies, 99)), p999: round3(pct(latencies, 99.9)), max: round3(latencies[latencies.length - 1] ?? NaN) },
    autocannonMs: { p50: lat.p50, p99: lat.p99, p999: typeof lat.p99_9 === 'number' ? lat.p99_9 : null, max: lat.max },
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    mirror,
  };
}

async function main(): Promise<void> {
  if (PIN) execFileSync('taskset', ['-pc', '1', String(process.pid)], { stdio: 'ignore' });
  const children: ChildProcess[] = [];
  const stopAll = () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
  };
  process.on('exit', stopAll);
  process.on('SIGINT', () => process.exit(130));
  const track = (s: Started) => {
    children.push(s.proc);
    return s;
  };
  try {
    const legacy = track(await startScript('proxy-origin.ts', ['--name', 'legacy'], 1));
    const v2 = track(await startScript('proxy-origin.ts', ['--name', 'v2'], 1));
    const hang = track(await startScript('hang-origin.ts', [], 1));
    const url = (s: Started) => `http://127.0.0.1:${s.port}`;
    const healthy = track(await startScript('proxy-cutover.ts', ['--mode', 'mirror', '--legacy', url(legacy), '--v2', url(v2)], 0));
    const hanging = track(await startScript('proxy-cutover.ts', ['--mode', 'mirror', '--legacy', url(legacy), '--v2', url(hang)], 0));
    const admins = { healthy: healthy.admin ?? null, hanging: hanging.admin ?? null };
    const proxies = { healthy, hanging };
    const proxyPids = [healthy.proc.pid!, hanging.proc.pid!];

    process.stdout.write(
      `mirror-hang benchmark: part 1 ${ROUNDS} round(s) x 2 runs of ${RUN_SECONDS} s (+${WARMUP_SECONDS} s warm-up) at ${RATE} req/s offered, ` +
        `${CONNECTIONS} connections; part 2 ${MEMORY_SECONDS} s at max rate; pinned: ${PIN ? 'proxies core 0, origins + load core 1' : 'no (taskset missing)'}; ` +
        `admin stats: ${admins.healthy && admins.hanging ? 'found' : 'not found (mirror counters left out)'}\n`,
    );

    // Part 1: latency at a fixed offered rate, healthy vs hanging V2.
    const runs: LatencyRun[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const order: Array<'healthy' | 'hanging'> = round % 2 === 1 ? ['healthy', 'hanging'] : ['hanging', 'healthy'];
      for (const setup of order) {
        await settle(proxyPids);
        const r = await latencyRun(setup, round, proxies[setup], admins[setup]);
        runs.push(r);
        const m = r.mirror;
        process.stdout.write(
          `  round ${round} ${setup.padEnd(7)} ${String(r.rps).padStart(5)} req/s  p50 ${r.exactMs.p50.toFixed(2)} ms  p99 ${r.exactMs.p99.toFixed(2)} ms  p99.9 ${r.exactMs.p999.toFixed(2)} ms` +
            `  (autocannon whole ms: p50 ${r.autocannonMs.p50} p99 ${r.autocannonMs.p99} p99.9 ${r.autocannonMs.p999 ?? '-'})  non2xx ${r.non2xx} errors ${r.errors}` +
            (m ? `  copies: sent ${m.sent} dropped ${m.dropped} timeouts ${m.timeouts} errors ${m.errors}` : '') +
            '\n',
        );
      }
    }
    const of = (setup: 'healthy' | 'hanging') => runs.filter((r) => r.setup === setup);
    const summarise = (setup: 'healthy' | 'hanging') => {
      const rs = of(setup);
      const p99s = rs.map((r) => r.exactMs.p99);
      return {
        runs: rs.length,
        p50Ms: round3(median(rs.map((r) => r.exactMs.p50))),
        p99Ms: { median: round3(median(p99s)), min: Math.min(...p99s), max: Math.max(...p99s) },
        p999Ms: round3(median(rs.map((r) => r.exactMs.p999))),
        autocannonP99Ms: median(rs.map((r) => r.autocannonMs.p99)),
        rps: Math.round(median(rs.map((r) => r.rps))),
        non2xx: rs.reduce((a, r) => a + r.non2xx, 0),
        errors: rs.reduce((a, r) => a + r.errors, 0),
        timeouts: rs.reduce((a, r) => a + r.timeouts, 0),
      };
    };
    const latHealthy = summarise('healthy');
    const latHanging = summarise('hanging');
    const p99Ratio = round3(latHanging.p99Ms.median / latHealthy.p99Ms.median);
    const p99RatioWholeMs = round3(latHanging.autocannonP99Ms / latHealthy.autocannonP99Ms);
    // Per-round ratios (adjacent runs), to show how much of the ratio is drift.
    const perRoundRatio = Array.from({ length: ROUNDS }, (_, i) => {
      const h = of('healthy')[i];
      const g = of('hanging')[i];
      return round3(g.exactMs.p99 / h.exactMs.p99);
    });

    // Part 2: memory of the hanging-V2 proxy at max rate.
    await settle(proxyPids);
    const pid = hanging.proc.pid!;
    const samples: Array<{ s: number; rssMb: number }> = [];
    const t0 = Date.now();
    const sample = () => samples.push({ s: round1((Date.now() - t0) / 1000), rssMb: round1(rssMb(pid)) });
    sample();
    const timer = setInterval(sample, 1000);
    let memLoad: LoadOutcome;
    try {
      memLoad = await load(hanging.port, MEMORY_SECONDS, undefined);
    } finally {
      clearInterval(timer);
    }
    sample();
    const memCounters = await mirrorCounters(admins.hanging, MEMORY_SECONDS + 1);
    await settle([pid], 10_000);
    const afterDrainMb = round1(rssMb(pid));
    const r = memLoad.result;
    const rssValues = samples.map((x) => x.rssMb);
    const memory = {
      seconds: MEMORY_SECONDS,
      startRssMb: rssValues[0],
      peakRssMb: Math.max(...rssValues),
      endRssMb: rssValues[rssValues.length - 1],
      afterDrainRssMb: afterDrainMb,
      requests: r.requests.total,
      rps: Math.round(r.requests.total / MEMORY_SECONDS),
      p50Ms: round3(pct(memLoad.latencies, 50)),
      p99Ms: round3(pct(memLoad.latencies, 99)),
      non2xx: r.non2xx,
      errors: r.errors,
      timeouts: r.timeouts,
      mirror: memCounters,
      samples,
    };
    process.stdout.write(
      `  memory  ${MEMORY_SECONDS} s max rate, V2 hanging: ${memory.rps} req/s, ${memory.requests} requests, RSS start ${memory.startRssMb} MB peak ${memory.peakRssMb} MB end ${memory.endRssMb} MB` +
        ` (after drain ${afterDrainMb} MB)  non2xx ${memory.non2xx} errors ${memory.errors}` +
        (memCounters ? `  copies: sent ${memCounters.sent} dropped ${memCounters.dropped} timeouts ${memCounters.timeouts} errors ${memCounters.errors}` : '') +
        '\n',
    );

    const p99Met = p99Ratio <= P99_RATIO_TARGET;
    const rssMet = memory.peakRssMb <= PEAK_RSS_TARGET_MB;
    const clientNon2xx = latHealthy.non2xx + latHanging.non2xx + memory.non2xx;
    const clientErrors = latHealthy.errors + latHanging.errors + memory.errors;
    const report = {
      schemaVersion: 1,
      benchmark: 'mirror-hang',
      at: new Date().toISOString(),
      machine: { cpus: cpus().length, node: process.version, pinned: PIN },
      method: {
        rounds: ROUNDS,
        runSeconds: RUN_SECONDS,
        warmupSeconds: WARMUP_SECONDS,
        offeredRate: RATE,
        connections: CONNECTIONS,
        memorySeconds: MEMORY_SECONDS,
        paths: BALANCE_REQUESTS.length,
        proxy: 'proxy-cutover.ts --mode mirror from dist/ (mirror: sample 100, maxInFlight 512, default timeoutMs)',
        hangingV2: 'hang-origin.ts: accepts and reads, never answers',
        latency:
          'exact percentiles (nearest rank) of every 2xx response time autocannon measured, fractional ms; autocannon\'s own percentiles are whole ms. ' +
          'Coordinated-omission correction off; autocannon\'s overallRate sends each connection\'s per-second share back to back at the start of each second (bursty).',
        setups:
          'healthy: every copy answered, every pair captured and diffed by the verifier; hanging: maxInFlight copies wait for the mirror timeout, ' +
          'the rest are dropped at the cap (so the hanging proxy diffs nothing)',
        rps: 'responses / run seconds; autocannon allows one burst at the start and one per 1 s tick, so it can exceed the offered rate',
        rss: 'VmRSS of the hanging-V2 proxy process from /proc/PID/status, every second',
        mirrorCounters: 'admin /admin/stats of each proxy, window = the run length, read right after the run',
      },
      results: {
        latency: { healthy: latHealthy, hanging: latHanging, p99Ratio, p99RatioWholeMs, perRoundP99Ratio: perRoundRatio, runs },
        memory,
        client: { non2xx: clientNon2xx, errors: clientErrors },
      },
      targets: {
        p99Ratio: { target: P99_RATIO_TARGET, measured: p99Ratio, measuredWholeMs: p99RatioWholeMs, met: p99Met },
        peakRssMb: { target: PEAK_RSS_TARGET_MB, measured: memory.peakRssMb, met: rssMet },
      },
    };
    mkdirSync(dirname(OUT), { recursive: true });
    writeFileSync(OUT, JSON.stringify(report, null, 2) + '\n');

    const row = (name: string, s: typeof latHealthy) =>
      `${name.padEnd(14)} ${String(s.rps).padStart(6)}  ${s.p50Ms.toFixed(2).padStart(7)}  ${`${s.p99Ms.median.toFixed(2)} (${s.p99Ms.min.toFixed(2)}-${s.p99Ms.max.toFixed(2)})`.padEnd(20)} ${s.p999Ms.toFixed(2).padStart(8)}  ${String(s.autocannonP99Ms).padStart(9)}  ${String(s.non2xx).padStart(6)}  ${String(s.errors).padStart(6)}\n`;
    process.stdout.write(
      `\nV2             req/s   p50 ms  p99 ms (min-max)     p99.9 ms  p99 (ac)  non2xx  errors\n` +
        row('healthy', latHealthy) +
        row('hanging', latHanging) +
        `p99 in fractional ms from every response time; "p99 (ac)" is autocannon's own figure, in whole ms. req/s = requests / run seconds (autocannon's 1 s bursts can exceed ${RATE}).\n` +
        `p99 hanging / healthy: ${p99Ratio} (per round ${perRoundRatio.join(', ')}; whole-ms figures: ${p99RatioWholeMs})\n` +
        `RSS of the hanging-V2 proxy over ${MEMORY_SECONDS} s at max rate: start ${memory.startRssMb} MB, peak ${memory.peakRssMb} MB, end ${memory.endRssMb} MB\n` +
        `client answers: non-2xx ${clientNon2xx}, errors ${clientErrors}${clientNon2xx || clientErrors ? '  (NOT all 2xx)' : ' (all 2xx)'}\n` +
        `\ntargets: hanging p99 <= ${P99_RATIO_TARGET}x healthy p99: ${p99Ratio} ${p99Met ? 'met' : 'NOT met'}; ` +
        `peak RSS <= ${PEAK_RSS_TARGET_MB} MB: ${memory.peakRssMb} MB ${rssMet ? 'met' : 'NOT met'}` +
        `${MEMORY_SECONDS < 60 ? ` (only ${MEMORY_SECONDS} s of load, the target says 60 s)` : ''}\nwrote ${OUT}\n`,
    );
  } finally {
    stopAll();
    // Bounded wait for the children to go; SIGKILL (by PID) whatever is left.
    const until = Date.now() + 5000;
    while (Date.now() < until && children.some((c) => c.exitCode === null && c.signalCode === null)) await sleep(100);
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`bench:mirror-hang failed: ${err?.stack ?? err}\n`);
    process.exit(1);
  },
);
