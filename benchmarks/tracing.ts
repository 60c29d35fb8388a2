/**
 * `npm run bench:tracing`: what OpenTelemetry tracing costs the proxy. The same cutover proxy
 * (benchmarks/proxy-cutover.ts) in canary and in mirror mode, each without tracing and with
 * tracing on through the standard variables (every request sampled, OTLP/HTTP protobuf to a
 * local sink that answers 200; and canary with 1 % of traces sampled), measured in the same run,
 * rounds in alternating order. Reported: rps and proxy CPU per request, and each traced setup's
 * ratio to its untraced twin (per round, then the median). Not a test.
 *
 * Options: --rounds N (default 3), --duration S (default 10), --quick (3 rounds of 4 s),
 * --out FILE (default reports/bench/tracing.json).
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, resolve } from 'node:path';
import autocannon from 'autocannon';
import { BALANCE_REQUESTS, PIN, cpuTicks, cpuUsPerRequest, median, round2, startScript, type Started as Child } from './harness.js';

const ROOT = resolve(import.meta.dirname, '..');
const argv = process.argv.slice(2);
const opt = (name: string, dflt: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? argv[i + 1] : dflt;
};
const quick = argv.includes('--quick');
const ROUNDS = Number(opt('rounds', '3'));
const DURATION = Number(opt('duration', quick ? '4' : '10'));
const WARMUP = quick ? 1 : 2;
const CONNECTIONS = 50;
const OUT = resolve(ROOT, opt('out', 'reports/bench/tracing.json'));




const REQUESTS = BALANCE_REQUESTS;

interface RunResult {
  rps: number;
  p99: number;
  cpuUsPerRequest: number;
  non2xx: number;
  errors: number;
}

const load = (port: number, seconds: number) => autocannon({ url: `http://127.0.0.1:${port}`, connections: CONNECTIONS, duration: seconds, requests: REQUESTS });

async function measure(port: number, pid: number): Promise<RunResult> {
  await load(port, WARMUP);
  const before = cpuTicks(pid);
  const r = await load(port, DURATION);
  const after = cpuTicks(pid);
  const total = r.requests.total || 1;
  return {
    rps: r.requests.average,
    p99: r.latency.p99,
    cpuUsPerRequest: cpuUsPerRequest(after - before, total),
    non2xx: r.non2xx,
    errors: r.errors,
  };
}


async function main(): Promise<void> {
  if (PIN) execFileSync('taskset', ['-pc', '1', String(process.pid)], { stdio: 'ignore' });
  const children: ChildProcess[] = [];
  process.on('exit', () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  });
  const legacy = await startScript('proxy-origin.ts', ['--name', 'legacy'], 1);
  const v2 = await startScript('proxy-origin.ts', ['--name', 'v2'], 1);
  const sink = await startScript('otlp-sink.ts', [], 1);
  children.push(legacy.proc, v2.proc, sink.proc);
  const urls = ['--legacy', `http://127.0.0.1:${legacy.port}`, '--v2', `http://127.0.0.1:${v2.port}`];
  const traced = {
    OTEL_TRACES_EXPORTER: 'otlp',
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `http://127.0.0.1:${sink.port}/v1/traces`,
    OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf',
  };
  const untraced = { OTEL_TRACES_EXPORTER: '' };
  const setups = [
    { name: 'canary', base: null, args: ['--mode', 'canary'], env: untraced },
    { name: 'canary+tracing', base: 'canary', args: ['--mode', 'canary'], env: traced },
    { name: 'canary+tracing-1%', base: 'canary', args: ['--mode', 'canary'], env: { ...traced, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.01' } },
    { name: 'mirror', base: null, args: ['--mode', 'mirror'], env: untraced },
    { name: 'mirror+tracing', base: 'mirror', args: ['--mode', 'mirror'], env: traced },
  ];
  const running = new Map<string, Child>();
  for (const s of setups) {
    const c = await startScript('proxy-cutover.ts', [...s.args, ...urls], 0, s.env);
    children.push(c.proc);
    running.set(s.name, c);
  }
  process.stdout.write(`tracing benchmark: ${ROUNDS} rounds x ${DURATION}s, ${CONNECTIONS} connections, pinned: ${PIN ? 'proxy core 0, origins + sink + load core 1' : 'no'}\n`);
  const results = new Map<string, RunResult[]>(setups.map((s) => [s.name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? setups : [...setups].reverse();
    for (const s of order) {
      const c = running.get(s.name)!;
      const r = await measure(c.port, c.proc.pid!);
      results.get(s.name)!.push(r);
      process.stdout.write(
        `  round ${round + 1} ${s.name.padEnd(18)} ${Math.round(r.rps).toString().padStart(7)} rps  p99 ${r.p99} ms  ${r.cpuUsPerRequest} µs CPU/req${r.non2xx || r.errors ? `  non2xx ${r.non2xx} errors ${r.errors}` : ''}\n`,
      );
    }
  }
  const out: Record<string, unknown> = {};
  for (const s of setups) {
    const rs = results.get(s.name)!;
    const entry: Record<string, unknown> = {
      rps: { median: Math.round(median(rs.map((r) => r.rps))), min: Math.round(Math.min(...rs.map((r) => r.rps))), max: Math.round(Math.max(...rs.map((r) => r.rps))) },
      p99Ms: median(rs.map((r) => r.p99)),
      cpuUsPerRequest: { median: median(rs.map((r) => r.cpuUsPerRequest)), min: Math.min(...rs.map((r) => r.cpuUsPerRequest)), max: Math.max(...rs.map((r) => r.cpuUsPerRequest)) },
      rounds: rs,
    };
    if (s.base) {
      const base = results.get(s.base)!;
      const rpsRatios = rs.map((r, i) => r.rps / base[i]!.rps);
      const cpuRatios = rs.map((r, i) => r.cpuUsPerRequest / base[i]!.cpuUsPerRequest);
      entry.vsUntraced = { rps: round2(median(rpsRatios)), rpsPerRound: rpsRatios.map(round2), cpuPerRequest: round2(median(cpuRatios)), cpuPerRound: cpuRatios.map(round2) };
      entry.addedCpuUsPerRequest = round2(median(rs.map((r, i) => r.cpuUsPerRequest - base[i]!.cpuUsPerRequest)));
    }
    out[s.name] = entry;
  }
  sink.proc.kill('SIGTERM');
  const received = await new Promise<string>((res) => {
    let text = '';
    sink.proc.stdout!.on('data', (d) => (text += d));
    sink.proc.once('exit', () => res(/received .*/.exec(text)?.[0] ?? ''));
  });
  const report = {
    schemaVersion: 1,
    benchmark: 'tracing',
    at: new Date().toISOString(),
    machine: { cpus: cpus().length, node: process.version, pinned: PIN },
    method: { rounds: ROUNDS, durationSeconds: DURATION, warmupSeconds: WARMUP, connections: CONNECTIONS, exporter: 'otlp http/protobuf, batch span processor defaults', sink: received },
    setups: out,
  };
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write('\nsetup               rps (median, min-max)   µs CPU/req   vs untraced (rps, CPU/req)\n');
  for (const s of setups) {
    const e = out[s.name] as { rps: { median: number; min: number; max: number }; cpuUsPerRequest: { median: number }; vsUntraced?: { rps: number; cpuPerRequest: number } };
    process.stdout.write(
      `${s.name.padEnd(19)} ${String(e.rps.median).padStart(7)} (${e.rps.min}-${e.rps.max})`.padEnd(44) +
        `${String(e.cpuUsPerRequest.median).padStart(8)}     ${e.vsUntraced ? `${e.vsUntraced.rps}x, ${e.vsUntraced.cpuPerRequest}x` : '-'}\n`,
    );
  }
  process.stdout.write(`sink: ${received}\nwrote ${OUT}\n`);
  process.exit(0);
}

main().catch((err) => {
  process.stderr.write(`${err?.stack ?? err}\n`);
  process.exit(1);
});
