/**
 * `npm run bench:proxy`: the proxy against a direct connection and bare @fastify/http-proxy,
 * same run, same machine. Not a test.
 *
 * Setups: direct to the origin, bare Fastify + @fastify/http-proxy, the same plus a bare
 * fire-and-forget undici copy to V2 (the floor any mirror pays), cutover in legacy, canary 10 %
 * (sticky by the accountId path param) and mirror 100 % (V2 = a second origin that writes the
 * same balance with its keys in another order), mirror both as shipped (every pair diffed by the
 * verifier, in this process), against a V2 that is one cent off in every answer (every pair a
 * mismatch), and with the verifier off. Many V2 services: three canary routes at 50 % (balance,
 * transactions, statements; requests spread evenly over them) all to one V2
 * (`cutover-canary-3routes`) and each to its own V2 service (`cutover-canary-3v2`: three URLs,
 * 127.0.0.1-3, of one more origin process, so the proxy holds three V2 pools), compared by CPU
 * per request in the same rounds (target: within 5 %). The cutover
 * setups run the built dist/.
 * 50 connections, rounds in alternating order, medians with min-max. Where `taskset` exists the
 * proxies run on core 0, the origins and the load generator (this process) on core 1. CPU per
 * request of the proxy process comes from /proc/PID/stat, and so does its core utilisation
 * during the run (well under 1.0 while saturated means something else took the core).
 * The headline ratio to bare is the median of per-round ratios (each setup against the bare
 * run of the same round), which cancels most of the drift of a shared machine. Before each run
 * every proxy must be idle (a verifier still diffing its backlog would steal the core).
 *
 * Options: --rounds N (default 5), --duration S (default 6), --quick (3 rounds of 3 s),
 * --only a,b (setup names), --out FILE (default reports/bench/proxy.json).
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import autocannon from 'autocannon';
import { BALANCE_REQUESTS, CLK_TCK, PIN, cpuTicks, cpuUsPerRequest, median, round2, startScript, type Started as Child } from './harness.js';

const ROOT = resolve(import.meta.dirname, '..');
const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(`--${name}`);
const opt = (name: string, dflt: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? argv[i + 1] : dflt;
};
const quick = flag('quick');
const ROUNDS = Number(opt('rounds', quick ? '3' : '5'));
const DURATION = Number(opt('duration', quick ? '3' : '6'));
const WARMUP = 1;
const CONNECTIONS = 50;
const OUT = resolve(ROOT, opt('out', 'reports/bench/proxy.json'));

const REQUESTS = BALANCE_REQUESTS;
/** The same 64 accounts over the three routes of the many-services setups (balance, transactions, statements in turn). */
const THREE_ROUTE_REQUESTS = BALANCE_REQUESTS.map((r, i) => ({ ...r, path: r.path.replace(/balance$/, ['balance', 'transactions', 'statements'][i % 3]!) }));

interface RunResult {
  rps: number;
  p50: number;
  p99: number;
  cpuUsPerRequest: number | null;
  /** Share of one core the proxy used during the run. */
  util: number | null;
  non2xx: number;
  errors: number;
  /** Mirror setups: pairs the verifier took during the run, and pairs dropped (queue full or not captured). */
  pairs?: { accepted: number; dropped: number };
}

interface Health {
  pairsDropped?: number;
  verifier?: { accepted: number } | null;
}

async function health(admin: string | undefined): Promise<Health | null> {
  if (!admin) return null;
  try {
    return (await (await fetch(`${admin}/healthz`)).json()) as Health;
  } catch {
    return null;
  }
}

async function load(port: number, seconds: number, requests = REQUESTS): Promise<autocannon.Result> {
  return autocannon({ url: `http://127.0.0.1:${port}`, connections: CONNECTIONS, duration: seconds, requests });
}

async function measure(port: number, pid: number | null, admin?: string, requests = REQUESTS): Promise<RunResult> {
  await load(port, WARMUP, requests);
  const h0 = await health(admin);
  const before = pid ? cpuTicks(pid) : 0;
  const t0 = Date.now();
  const r = await load(port, DURATION, requests);
  const after = pid ? cpuTicks(pid) : 0;
  const h1 = await health(admin);
  const pairs =
    h0?.verifier && h1?.verifier
      ? { accepted: h1.verifier.accepted - h0.verifier.accepted, dropped: (h1.pairsDropped ?? 0) - (h0.pairsDropped ?? 0) }
      : undefined;
  const wallS = (Date.now() - t0) / 1000;
  const total = r.requests.total || 1;
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    cpuUsPerRequest: pid ? cpuUsPerRequest(after - before, total) : null,
    util: pid ? Math.round(((after - before) / CLK_TCK / wallS) * 100) / 100 : null,
    non2xx: r.non2xx,
    errors: r.errors,
    ...(pairs ? { pairs } : {}),
  };
}

/**
 * Wait until every proxy process is idle again (its CPU ticks stop moving), so work left over
 * from one run (a verifier still diffing its backlog) is not billed to the next. Bounded.
 */
async function settle(pids: number[], maxMs = 20_000): Promise<void> {
  const deadline = Date.now() + maxMs;
  let last = pids.map(cpuTicks);
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 500));
    const now = pids.map(cpuTicks);
    const busy = now.some((t, i) => t - last[i] > 5); // more than 50 ms of CPU in 500 ms
    last = now;
    if (!busy) return;
  }
}


let bodyBytes: number | undefined;

async function main(): Promise<void> {
  if (PIN) execFileSync('taskset', ['-pc', '1', String(process.pid)], { stdio: 'ignore' });
  const children: ChildProcess[] = [];
  const stopAll = () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  };
  process.on('exit', stopAll);
  try {
    const legacy = await startScript('proxy-origin.ts', ['--name', 'legacy'], 1);
    const v2 = await startScript('proxy-origin.ts', ['--name', 'v2'], 1);
    const v2Wrong = await startScript('proxy-origin.ts', ['--name', 'v2-wrong'], 1);
    children.push(legacy.proc, v2.proc, v2Wrong.proc);
    // The many-services setups' three V2 services: one origin answering as v2 does on 127.0.0.1-3
    // (three URLs, so three pools in the proxy; one process, as the single-V2 setup has).
    const services = await startScript('proxy-origin.ts', ['--name', 'v2', '--addresses', '3'], 1);
    children.push(services.proc);
    const serviceUrls = [1, 2, 3].map((i) => `http://127.0.0.${i}:${services.port}`).join(',');
    bodyBytes = legacy.bytes;
    const legacyUrl = `http://127.0.0.1:${legacy.port}`;
    const v2Url = `http://127.0.0.1:${v2.port}`;
    const v2WrongUrl = `http://127.0.0.1:${v2Wrong.port}`;
    const setups: Array<{ name: string; start: () => Promise<Child | null>; requests?: typeof REQUESTS }> = [
      { name: 'direct', start: async () => null },
      { name: 'bare-http-proxy', start: () => startScript('proxy-bare.ts', ['--upstream', legacyUrl], 0) },
      // The floor for mirror mode: bare plus an uncounted fire-and-forget undici copy to V2.
      { name: 'bare+copy', start: () => startScript('proxy-bare-copy.ts', ['--upstream', legacyUrl, '--v2', v2Url], 0) },
      ...(['legacy', 'canary', 'mirror'] as const).map((mode) => ({
        name: `cutover-${mode}`,
        start: () => startScript('proxy-cutover.ts', ['--mode', mode, '--legacy', legacyUrl, '--v2', v2Url], 0),
      })),
      // The worst case for the verifier: V2 gets one amount wrong in every answer, so every pair
      // is a mismatch with a finding to record, aggregate and write.
      {
        name: 'cutover-mirror-mismatch',
        start: () => startScript('proxy-cutover.ts', ['--mode', 'mirror', '--legacy', legacyUrl, '--v2', v2WrongUrl], 0),
      },
      // Many V2 services: the same three canary routes to one V2, and each to its own V2 service.
      {
        name: 'cutover-canary-3routes',
        requests: THREE_ROUTE_REQUESTS,
        start: () => startScript('proxy-cutover.ts', ['--mode', 'canary', '--three-routes', '--legacy', legacyUrl, '--v2', v2Url], 0),
      },
      {
        name: 'cutover-canary-3v2',
        requests: THREE_ROUTE_REQUESTS,
        start: () => startScript('proxy-cutover.ts', ['--mode', 'canary', '--three-routes', '--legacy', legacyUrl, '--v2s', serviceUrls], 0),
      },
      // Mirror without the verifier: what the data plane's copy and capture cost on their own.
      {
        name: 'cutover-mirror-noverify',
        start: () => startScript('proxy-cutover.ts', ['--mode', 'mirror', '--verifier', 'off', '--legacy', legacyUrl, '--v2', v2Url], 0),
      },
    ];
    const only = opt('only', '');
    const chosen = only ? setups.filter((s) => only.split(',').includes(s.name) || s.name === 'direct' || s.name === 'bare-http-proxy') : setups;

    const results = new Map<string, RunResult[]>(chosen.map((s) => [s.name, []]));
    // Every proxy is started once and stays up (idle ones cost nothing); runs take turns.
    const running = new Map<string, Child | null>();
    for (const s of chosen) {
      const child = await s.start();
      if (child) children.push(child.proc);
      running.set(s.name, child);
    }
    process.stdout.write(`proxy benchmark: ${ROUNDS} rounds x ${DURATION}s, ${CONNECTIONS} connections, pinned: ${PIN ? 'proxy core 0, origin + load core 1' : 'no (taskset missing)'}\n`);
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? chosen : [...chosen].reverse();
      for (const s of order) {
        const child = running.get(s.name) ?? null;
        const port = child?.port ?? legacy.port;
        await settle([...running.values()].filter((c): c is Child => c !== null).map((c) => c.proc.pid!));
        const r = await measure(port, child?.proc.pid ?? null, child?.admin, s.requests);
        results.get(s.name)!.push(r);
        process.stdout.write(
          `  round ${round + 1} ${s.name.padEnd(23)} ${Math.round(r.rps).toString().padStart(7)} rps  p50 ${r.p50} ms  p99 ${r.p99} ms` +
            `${r.cpuUsPerRequest !== null ? `  ${r.cpuUsPerRequest} µs CPU/req  util ${r.util}` : ''}${r.non2xx || r.errors ? `  non2xx ${r.non2xx} errors ${r.errors}` : ''}` +
            `${r.pairs ? `  pairs to the verifier ${r.pairs.accepted}, dropped ${r.pairs.dropped}` : ''}\n`,
        );
      }
    }

    const summary = (name: string) => {
      const rs = results.get(name)!;
      const rps = rs.map((r) => r.rps);
      const cpu = rs.map((r) => r.cpuUsPerRequest).filter((c): c is number => c !== null);
      return {
        rps: { median: Math.round(median(rps)), min: Math.round(Math.min(...rps)), max: Math.round(Math.max(...rps)) },
        p50Ms: median(rs.map((r) => r.p50)),
        p99Ms: { median: median(rs.map((r) => r.p99)), min: Math.min(...rs.map((r) => r.p99)), max: Math.max(...rs.map((r) => r.p99)) },
        cpuUsPerRequest: cpu.length ? { median: median(cpu), min: Math.min(...cpu), max: Math.max(...cpu) } : null,
        util: cpu.length ? median(rs.map((r) => r.util ?? 0)) : null,
        non2xx: rs.reduce((a, r) => a + r.non2xx, 0),
        errors: rs.reduce((a, r) => a + r.errors, 0),
        // Mirror setups: whether every pair was diffed (dropped 0) or the verifier fell behind.
        pairs: rs.some((r) => r.pairs)
          ? { accepted: rs.reduce((a, r) => a + (r.pairs?.accepted ?? 0), 0), dropped: rs.reduce((a, r) => a + (r.pairs?.dropped ?? 0), 0) }
          : null,
      };
    };
    const direct = summary('direct');
    const bare = results.has('bare-http-proxy') ? summary('bare-http-proxy') : null;
    const setupsOut: Record<string, unknown> = {};
    for (const s of chosen) {
      const sum = summary(s.name);
      const rounds = results.get(s.name)!;
      const perRoundVsBare = bare ? rounds.map((r, i) => r.rps / results.get('bare-http-proxy')![i].rps) : [];
      setupsOut[s.name] = {
        ...sum,
        vsDirect: round2(sum.rps.median / direct.rps.median),
        // Median of the per-round ratios (same round, adjacent runs): the headline figure.
        vsBare: bare ? round2(median(perRoundVsBare)) : null,
        vsBareOfMedians: bare ? round2(sum.rps.median / bare.rps.median) : null,
        vsBarePerRound: perRoundVsBare.map(round2),
        // Bare's CPU per request over this one's: the throughput ratio a CPU-bound proxy would reach.
        cpuVsBare: bare?.cpuUsPerRequest && sum.cpuUsPerRequest ? Math.round((bare.cpuUsPerRequest.median / sum.cpuUsPerRequest.median) * 100) / 100 : null,
        rounds,
      };
    }
    const bareCopyRatio = () => {
      const m = results.get('cutover-mirror-noverify');
      const c = results.get('bare+copy');
      if (!m || !c) return null;
      return Math.round(median(m.map((r, i) => r.rps / c[i].rps)) * 100) / 100;
    };
    const targets = {
      canaryVsBare: {
        target: 1.0,
        measured: (setupsOut['cutover-canary'] as { vsBare: number } | undefined)?.vsBare ?? null,
        cpu: (setupsOut['cutover-canary'] as { cpuVsBare: number | null } | undefined)?.cpuVsBare ?? null,
      },
      mirrorNoVerifyVsBare: {
        target: 0.7,
        measured: (setupsOut['cutover-mirror-noverify'] as { vsBare: number } | undefined)?.vsBare ?? null,
        cpu: (setupsOut['cutover-mirror-noverify'] as { cpuVsBare: number | null } | undefined)?.cpuVsBare ?? null,
      },
      mirrorVsBareCopy: {
        note: 'cutover mirror (verifier off) against bare + an uncounted copy: what routing, capture, stats and events add to the copy itself',
        measured: bareCopyRatio(),
      },
      mirrorVsBare: {
        target: 0.7,
        measured: (setupsOut['cutover-mirror'] as { vsBare: number } | undefined)?.vsBare ?? null,
        cpu: (setupsOut['cutover-mirror'] as { cpuVsBare: number | null } | undefined)?.cpuVsBare ?? null,
      },
      mirrorMismatchVsBare: {
        note: 'every pair a mismatch (V2 one cent off on every answer): the verifier worst case',
        measured: (setupsOut['cutover-mirror-mismatch'] as { vsBare: number } | undefined)?.vsBare ?? null,
        cpu: (setupsOut['cutover-mirror-mismatch'] as { cpuVsBare: number | null } | undefined)?.cpuVsBare ?? null,
      },
    };
    // CPU per request of three V2 services against one, per round (adjacent runs), then the median.
    const many = results.get('cutover-canary-3v2');
    const one = results.get('cutover-canary-3routes');
    const perRoundCpu =
      many && one ? many.map((r, i) => (r.cpuUsPerRequest && one[i]!.cpuUsPerRequest ? r.cpuUsPerRequest / one[i]!.cpuUsPerRequest! : NaN)).filter(Number.isFinite) : [];
    const manyServices = {
      note: 'three canary routes each to its own V2 service, against the same routes all to one V2: CPU per request, median of per-round ratios',
      target: 1.05,
      cpuRatio: perRoundCpu.length ? Math.round(median(perRoundCpu) * 1000) / 1000 : null,
      cpuRatioPerRound: perRoundCpu.map((x) => Math.round(x * 1000) / 1000),
    };
    const report = {
      schemaVersion: 1,
      benchmark: 'proxy',
      at: new Date().toISOString(),
      machine: { cpus: (await import('node:os')).cpus().length, node: process.version, pinned: PIN },
      method: { rounds: ROUNDS, durationSeconds: DURATION, warmupSeconds: WARMUP, connections: CONNECTIONS, bodyBytes: bodyBytes ?? null, paths: REQUESTS.length },
      setups: setupsOut,
      targets: { ...targets, manyServices },
    };
    mkdirSync(dirname(OUT), { recursive: true });
    writeFileSync(OUT, JSON.stringify(report, null, 2) + '\n');

    process.stdout.write('\nsetup                    rps (median, min-max)     p50 ms  p99 ms (min-max)   CPU µs/req  util   vs direct  vs bare  CPU vs bare\n');
    for (const s of chosen) {
      const r = setupsOut[s.name] as ReturnType<typeof summary> & { vsDirect: number; vsBare: number | null; cpuVsBare: number | null };
      process.stdout.write(
        `${s.name.padEnd(24)} ${`${r.rps.median} (${r.rps.min}-${r.rps.max})`.padEnd(25)} ${String(r.p50Ms).padStart(6)}  ${`${r.p99Ms.median} (${r.p99Ms.min}-${r.p99Ms.max})`.padEnd(18)} ${String(r.cpuUsPerRequest?.median ?? '-').padStart(10)}  ${String(r.util ?? '-').padStart(4)}   ${r.vsDirect.toFixed(2).padStart(8)}  ${(r.vsBare === null ? '-' : r.vsBare.toFixed(2)).padStart(7)}  ${r.cpuVsBare === null ? '-' : r.cpuVsBare.toFixed(2)}\n`,
      );
    }
    process.stdout.write(
      `\ntargets: canary >= 1.0x bare (rps ${targets.canaryVsBare.measured}, CPU ${targets.canaryVsBare.cpu}), mirror >= 0.7x bare (rps ${targets.mirrorVsBare.measured}, CPU ${targets.mirrorVsBare.cpu}; every pair a mismatch: rps ${targets.mirrorMismatchVsBare.measured}, CPU ${targets.mirrorMismatchVsBare.cpu}; verifier off: rps ${targets.mirrorNoVerifyVsBare.measured}, CPU ${targets.mirrorNoVerifyVsBare.cpu})\nwrote ${OUT}\n`,
    );
    if (manyServices.cpuRatio !== null) {
      process.stdout.write(`many V2 services: CPU/req of 3 V2 services over 1 V2 (same 3 canary routes) ${manyServices.cpuRatio} (target <= ${manyServices.target}), per round ${manyServices.cpuRatioPerRound.join(' ')}\n`);
    }
    if (!existsSync(OUT)) throw new Error('report not written');
  } finally {
    stopAll();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`bench:proxy failed: ${err?.stack ?? err}\n`);
    process.exit(1);
  },
);
