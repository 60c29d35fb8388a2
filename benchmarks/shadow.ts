/**
 * `npm run bench:shadow`: mirrored requests per second that `cutover shadow` verifies on one
 * core, with nginx mirroring to it (examples/nginx/cutover-shadow.conf), against the same
 * mirror through cutover's own proxy (mode mirror). The subject (shadow or proxy) is pinned to
 * core 0; nginx, the origins and autocannon share core 1. The V2 origin writes the same facts
 * with its keys in another order, so every pair is parsed and compared.
 *
 * Per round and setup: client requests per second, pairs verified per second during the run
 * (the verifier's `verified` counter), pairs not verified (dropped anywhere, or still queued),
 * and the subject's CPU µs per verified pair (/proc). Rounds alternate the order; medians with
 * min-max. Options: --quick, --rounds N, --duration S, --connections N,
 * --out FILE (default reports/bench/shadow.json).
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { tmpdir, cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import autocannon from 'autocannon';
import { BALANCE_REQUESTS, CLK_TCK, PIN, ROOT, cpuTicks, median, pinned, round2, startScript, type Started } from './harness.js';
import { createServer } from 'node:net';

const argv = process.argv.slice(2);
const opt = (name: string, dflt: string) => (argv.includes(`--${name}`) ? (argv[argv.indexOf(`--${name}`) + 1] ?? dflt) : dflt);
const quick = argv.includes('--quick');
const ROUNDS = Number(opt('rounds', quick ? '2' : '3'));
const DURATION = Number(opt('duration', quick ? '3' : '6'));
const CONNECTIONS = Number(opt('connections', '32'));
const OUT = resolve(ROOT, opt('out', 'reports/bench/shadow.json'));

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => res(port));
    });
  });
}

function findNginx(): string | null {
  return ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p)) ?? null;
}

interface Health {
  verifier?: { verified: number; accepted: number; queued: number; inFlight: number } | null;
  pairsDropped?: number;
  shadow?: { received: number; accepted: number; skipped: Record<string, number> };
}

const health = async (admin: string): Promise<Health> => (await (await fetch(`${admin}/healthz`)).json()) as Health;
const notTaken = (h: Health) => (h.pairsDropped ?? 0) + Object.values(h.shadow?.skipped ?? {}).reduce((a, b) => a + b, 0);

interface Run {
  rps: number;
  verifiedPerS: number;
  /** Mirrored requests the subject did not verify during the run (dropped anywhere). */
  notVerified: number;
  cpuUsPerPair: number;
  util: number;
}

async function measure(loadPort: number, subject: Started): Promise<Run> {
  await autocannon({ url: `http://127.0.0.1:${loadPort}`, connections: CONNECTIONS, duration: 1, requests: BALANCE_REQUESTS });
  const h0 = await health(subject.admin!);
  const c0 = cpuTicks(subject.proc.pid!);
  const t0 = Date.now();
  const r = await autocannon({ url: `http://127.0.0.1:${loadPort}`, connections: CONNECTIONS, duration: DURATION, requests: BALANCE_REQUESTS });
  const wall = (Date.now() - t0) / 1000;
  const c1 = cpuTicks(subject.proc.pid!);
  const h1 = await health(subject.admin!);
  const verified = (h1.verifier?.verified ?? 0) - (h0.verifier?.verified ?? 0);
  const ticks = c1 - c0;
  // Let the backlog drain before the next run.
  for (let i = 0; i < 100; i++) {
    const h = await health(subject.admin!);
    if ((h.verifier?.queued ?? 0) + (h.verifier?.inFlight ?? 0) === 0) break;
    await new Promise((res) => setTimeout(res, 100));
  }
  return {
    rps: Math.round(r.requests.total / wall),
    verifiedPerS: Math.round(verified / wall),
    notVerified: notTaken(h1) - notTaken(h0),
    cpuUsPerPair: Math.round(((ticks * 1e6) / CLK_TCK / Math.max(1, verified)) * 10) / 10,
    util: round2(ticks / CLK_TCK / wall),
  };
}

function nginxSite(legacyPort: number, shadowPort: number, listenPort: number): string {
  const site = readFileSync(join(ROOT, 'examples', 'nginx', 'cutover-shadow.conf'), 'utf8');
  return site
    .replace('server 127.0.0.1:4001;', `server 127.0.0.1:${legacyPort};`)
    .replace('server 127.0.0.1:8090;', `server 127.0.0.1:${shadowPort};`)
    .replace('listen 127.0.0.1:8000;', `listen 127.0.0.1:${listenPort};`);
}

async function startNginx(bin: string, site: string, port: number): Promise<{ proc: ChildProcess; stop(): Promise<void> }> {
  const prefix = mkdtempSync(join(tmpdir(), 'cutover-bench-shadow-nginx-'));
  for (const d of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(prefix, 'tmp', d), { recursive: true });
  const conf = join(prefix, 'nginx.conf');
  writeFileSync(
    conf,
    `${process.getuid?.() === 0 ? 'user root;\n' : ''}worker_processes 1;
daemon off;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${prefix}/tmp/body;
  proxy_temp_path ${prefix}/tmp/proxy;
  fastcgi_temp_path ${prefix}/tmp/fastcgi;
  uwsgi_temp_path ${prefix}/tmp/uwsgi;
  scgi_temp_path ${prefix}/tmp/scgi;
${site}
}
`,
  );
  const proc = pinned(1, bin, ['-p', prefix, '-c', conf, '-e', join(prefix, 'error.log')]);
  for (let i = 0; i < 100; i++) {
    try {
      await (await fetch(`http://127.0.0.1:${port}/`)).arrayBuffer();
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    proc,
    stop: () =>
      new Promise((res) => {
        if (proc.exitCode !== null) return res();
        proc.once('exit', () => res());
        proc.kill('SIGQUIT');
      }),
  };
}

const stopChild = (c: ChildProcess) =>
  new Promise<void>((res) => {
    if (c.exitCode !== null) return res();
    c.once('exit', () => res());
    c.kill('SIGTERM');
    setTimeout(() => c.kill('SIGKILL'), 5000).unref();
  });

async function main(): Promise<void> {
  const nginxBin = findNginx();
  if (!nginxBin) {
    process.stdout.write('bench:shadow: nginx is not installed (apt-get install nginx-light); skipped\n');
    return;
  }
  const children: ChildProcess[] = [];
  let nginx: Awaited<ReturnType<typeof startNginx>> | undefined;
  try {
    const legacy = await startScript('proxy-origin.ts', ['--name', 'legacy'], 1);
    const v2 = await startScript('proxy-origin.ts', ['--name', 'v2'], 1);
    children.push(legacy.proc, v2.proc);
    const up = ['--legacy', `http://127.0.0.1:${legacy.port}`, '--v2', `http://127.0.0.1:${v2.port}`];
    const shadow = await startScript('shadow-target.ts', up, 0);
    const proxy = await startScript('proxy-cutover.ts', ['--mode', 'mirror', ...up], 0);
    children.push(shadow.proc, proxy.proc);
    const nginxPort = await freePort();
    nginx = await startNginx(nginxBin, nginxSite(legacy.port, shadow.port, nginxPort), nginxPort);
    process.stdout.write(`shadow benchmark: ${ROUNDS} rounds x ${DURATION}s, ${CONNECTIONS} connections, pinned: ${PIN ? 'subject core 0; nginx, origins, load core 1' : 'no (taskset missing)'}\n`);
    const runs: Record<'nginx-mirror-to-shadow' | 'cutover-proxy-mirror', Run[]> = { 'nginx-mirror-to-shadow': [], 'cutover-proxy-mirror': [] };
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? (['nginx-mirror-to-shadow', 'cutover-proxy-mirror'] as const) : (['cutover-proxy-mirror', 'nginx-mirror-to-shadow'] as const);
      for (const name of order) {
        const r = name === 'nginx-mirror-to-shadow' ? await measure(nginxPort, shadow) : await measure(proxy.port, proxy);
        runs[name].push(r);
        process.stdout.write(`round ${round + 1} ${name.padEnd(24)} clients ${r.rps} rps, verified ${r.verifiedPerS} pairs/s, not verified ${r.notVerified}, ${r.cpuUsPerPair} CPU µs/pair, ${r.util} cores\n`);
      }
    }
    const summary = Object.fromEntries(
      Object.entries(runs).map(([name, rs]) => {
        const m = (k: keyof Run) => ({ median: median(rs.map((r) => r[k])), min: Math.min(...rs.map((r) => r[k])), max: Math.max(...rs.map((r) => r[k])) });
        return [name, { rps: m('rps'), verifiedPerS: m('verifiedPerS'), notVerified: m('notVerified'), cpuUsPerPair: m('cpuUsPerPair'), util: m('util'), runs: rs }];
      }),
    );
    const ratio = round2(summary['nginx-mirror-to-shadow'].verifiedPerS.median / Math.max(1, summary['cutover-proxy-mirror'].verifiedPerS.median));
    const report = {
      benchmark: 'shadow',
      at: new Date().toISOString(),
      command: `npm run bench:shadow -- ${argv.join(' ')}`.trim(),
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version, pinned: PIN },
      settings: { rounds: ROUNDS, durationS: DURATION, connections: CONNECTIONS },
      setups: summary,
      shadowVerifiedVsProxyMirror: ratio,
    };
    mkdirSync(dirname(OUT), { recursive: true });
    writeFileSync(OUT, JSON.stringify(report, null, 2) + '\n');
    process.stdout.write('\nsetup                     verified pairs/s (median, min-max)  clients rps   CPU µs/pair\n');
    for (const [name, s] of Object.entries(summary)) {
      process.stdout.write(`${name.padEnd(25)} ${String(s.verifiedPerS.median).padStart(8)} (${s.verifiedPerS.min}-${s.verifiedPerS.max})${' '.repeat(14)}${String(s.rps.median).padStart(8)}   ${s.cpuUsPerPair.median}\n`);
    }
    process.stdout.write(`\nshadow behind nginx verifies ${ratio}x the pairs/s of cutover's own mirror on one core\nwrote ${OUT}\n`);
  } finally {
    await nginx?.stop();
    await Promise.all(children.map(stopChild));
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:shadow failed: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exitCode = 1;
});
