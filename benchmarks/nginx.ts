/**
 * `npm run bench:nginx`: cutover beside nginx, the tool people would otherwise use, in the
 * same run on the same origin. Not a test.
 *
 * Setups: direct to the origin; nginx as a reverse proxy with upstream keepalive; nginx
 * `split_clients` canary 10 % (by request URI, so one account stays on one side); nginx
 * `mirror` of every request to V2; bare Fastify + @fastify/http-proxy; cutover canary 10 %
 * (sticky by accountId) and cutover mirror (every pair diffed by its verifier).
 * nginx runs as a non-daemon child (`-p` a temp prefix, `-c` a temp config, one worker) on free
 * ports and is stopped by PID. Where `taskset` exists the proxies run on core 0, the origins
 * and the load generator (this process) on core 1. Rounds alternate their order; medians with
 * min-max; CPU per request of the proxy (nginx: master + worker) from /proc/PID/stat.
 *
 * Options: --rounds N (default 3), --duration S (default 5), --quick (3 rounds of 3 s),
 * --out FILE (default reports/bench/nginx.json), --nginx PATH (default: nginx on PATH or /usr/sbin/nginx).
 */
import { execFileSync, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import autocannon from 'autocannon';
import { BALANCE_REQUESTS, PIN, cpuTicks, cpuUsPerRequest, median, pinned, round2, startScript } from './harness.js';

const ROOT = resolve(import.meta.dirname, '..');
const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(`--${name}`);
const opt = (name: string, dflt: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : dflt;
};
const quick = flag('quick');
const ROUNDS = Number(opt('rounds', '3'));
const DURATION = Number(opt('duration', quick ? '3' : '5'));
const WARMUP = 1;
const CONNECTIONS = 50;
const OUT = resolve(ROOT, opt('out', 'reports/bench/nginx.json'));

function findNginx(explicit?: string): string | null {
  const candidates = explicit ? [explicit] : ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/bin/nginx'];
  try {
    const onPath = execFileSync('sh', ['-c', 'command -v nginx'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    if (onPath && !explicit) candidates.unshift(onPath);
  } catch {
    // not on PATH
  }
  return candidates.find((c) => existsSync(c)) ?? null;
}


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


/** The nginx config: three servers (proxy, split_clients canary, mirror) in front of the origins. */
function nginxConfig(o: { prefix: string; legacy: number; v2: number; proxy: number; canary: number; mirror: number; runAsRoot: boolean }): string {
  const keepAlive = 'proxy_http_version 1.1;\n      proxy_set_header Connection "";';
  return `# written by benchmarks/nginx.ts
${o.runAsRoot ? 'user root;\n' : ''}worker_processes 1;
daemon off;
pid ${o.prefix}/nginx.pid;
error_log ${o.prefix}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${o.prefix}/tmp/body;
  proxy_temp_path ${o.prefix}/tmp/proxy;
  fastcgi_temp_path ${o.prefix}/tmp/fastcgi;
  uwsgi_temp_path ${o.prefix}/tmp/uwsgi;
  scgi_temp_path ${o.prefix}/tmp/scgi;
  upstream legacy { server 127.0.0.1:${o.legacy}; keepalive 64; }
  upstream v2 { server 127.0.0.1:${o.v2}; keepalive 64; }
  split_clients "$request_uri" $canary_upstream {
    10% v2;
    * legacy;
  }
  server {
    listen 127.0.0.1:${o.proxy};
    location / {
      proxy_pass http://legacy;
      ${keepAlive}
    }
  }
  server {
    listen 127.0.0.1:${o.canary};
    location / {
      proxy_pass http://$canary_upstream;
      ${keepAlive}
    }
  }
  server {
    listen 127.0.0.1:${o.mirror};
    location / {
      mirror /_mirror;
      mirror_request_body off;
      proxy_pass http://legacy;
      ${keepAlive}
    }
    location = /_mirror {
      internal;
      proxy_pass http://v2$request_uri;
      ${keepAlive}
    }
  }
}
`;
}

/** nginx's worker may be gone by the time it is read: count it as 0 then. */
function ticks(pid: number): number {
  try {
    return cpuTicks(pid);
  } catch {
    return 0;
  }
}

/** The process and its children (nginx's worker), from /proc. */
function family(pid: number): number[] {
  const out = [pid];
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const c = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
      if (c) out.push(...c.split(/\s+/).map(Number));
    }
  } catch {
    // gone
  }
  return out;
}

const REQUESTS = BALANCE_REQUESTS;

interface RunResult {
  rps: number;
  p50: number;
  p99: number;
  cpuUsPerRequest: number | null;
  non2xx: number;
  errors: number;
}

function load(port: number, seconds: number): Promise<autocannon.Result> {
  return autocannon({ url: `http://127.0.0.1:${port}`, connections: CONNECTIONS, duration: seconds, requests: REQUESTS });
}

async function measure(port: number, pids: number[]): Promise<RunResult> {
  await load(port, WARMUP);
  const before = pids.reduce((a, p) => a + ticks(p), 0);
  const r = await load(port, DURATION);
  const after = pids.reduce((a, p) => a + ticks(p), 0);
  const total = r.requests.total || 1;
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    cpuUsPerRequest: pids.length ? cpuUsPerRequest(after - before, total) : null,
    non2xx: r.non2xx,
    errors: r.errors,
  };
}


async function main(): Promise<number> {
  const nginx = findNginx(argv.includes('--nginx') ? opt('nginx', '') : undefined);
  if (!nginx) {
    process.stdout.write('bench:nginx: nginx is not installed (apt-get install nginx-light); skipped\n');
    return 0;
  }
  if (PIN) execFileSync('taskset', ['-pc', '1', String(process.pid)], { stdio: 'ignore' });
  const children: ChildProcess[] = [];
  let ngx: ChildProcess | undefined;
  const prefix = mkdtempSync(join(tmpdir(), 'cutover-bench-nginx-'));
  const stopAll = () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
  };
  process.on('exit', stopAll);
  try {
    const legacy = await startScript('proxy-origin.ts', ['--name', 'legacy'], 1);
    const v2 = await startScript('proxy-origin.ts', ['--name', 'v2'], 1);
    children.push(legacy.proc, v2.proc);
    const legacyUrl = `http://127.0.0.1:${legacy.port}`;
    const v2Url = `http://127.0.0.1:${v2.port}`;

    const ports = { proxy: await freePort(), canary: await freePort(), mirror: await freePort() };
    mkdirSync(join(prefix, 'tmp'), { recursive: true });
    const conf = join(prefix, 'nginx.conf');
    writeFileSync(conf, nginxConfig({ prefix, legacy: legacy.port, v2: v2.port, ...ports, runAsRoot: process.getuid?.() === 0 }));
    ngx = pinned(0, nginx, ['-p', prefix, '-c', conf, '-e', join(prefix, 'error.log')]);
    children.push(ngx);
    let ngxOut = '';
    ngx.stderr!.on('data', (d) => (ngxOut += d));
    // Ready when all three ports answer.
    const deadline = Date.now() + 10_000;
    for (const p of Object.values(ports)) {
      for (;;) {
        const ok = await fetch(`http://127.0.0.1:${p}/accounts/ACC-000001/balance`).then((r) => r.ok, () => false);
        if (ok) break;
        if (Date.now() > deadline || ngx.exitCode !== null) throw new Error(`nginx did not start: ${ngxOut}${existsSync(join(prefix, 'error.log')) ? readFileSync(join(prefix, 'error.log'), 'utf8') : ''}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const nginxPid = ngx.pid!;
    const nginxPids = () => family(nginxPid);

    const bare = await startScript('proxy-bare.ts', ['--upstream', legacyUrl], 0);
    const canary = await startScript('proxy-cutover.ts', ['--mode', 'canary', '--legacy', legacyUrl, '--v2', v2Url], 0);
    const mirror = await startScript('proxy-cutover.ts', ['--mode', 'mirror', '--legacy', legacyUrl, '--v2', v2Url], 0);
    children.push(bare.proc, canary.proc, mirror.proc);

    const setups: Array<{ name: string; port: number; pids: () => number[] }> = [
      { name: 'direct', port: legacy.port, pids: () => [] },
      { name: 'nginx-proxy', port: ports.proxy, pids: nginxPids },
      { name: 'nginx-split-clients-10', port: ports.canary, pids: nginxPids },
      { name: 'nginx-mirror', port: ports.mirror, pids: nginxPids },
      { name: 'bare-http-proxy', port: bare.port, pids: () => [bare.proc.pid!] },
      { name: 'cutover-canary-10', port: canary.port, pids: () => [canary.proc.pid!] },
      { name: 'cutover-mirror', port: mirror.port, pids: () => [mirror.proc.pid!] },
    ];
    process.stdout.write(`nginx benchmark (${nginx}): ${ROUNDS} rounds x ${DURATION}s, ${CONNECTIONS} connections, pinned: ${PIN ? 'proxy core 0, origins + load core 1' : 'no (taskset missing)'}\n`);
    const results = new Map<string, RunResult[]>(setups.map((s) => [s.name, []]));
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? setups : [...setups].reverse();
      for (const s of order) {
        const r = await measure(s.port, s.pids());
        results.get(s.name)!.push(r);
        process.stdout.write(
          `  round ${round + 1} ${s.name.padEnd(24)} ${Math.round(r.rps).toString().padStart(7)} rps  p50 ${r.p50} ms  p99 ${r.p99} ms${r.cpuUsPerRequest !== null ? `  ${r.cpuUsPerRequest} µs CPU/req` : ''}${r.non2xx || r.errors ? `  non2xx ${r.non2xx} errors ${r.errors}` : ''}\n`,
        );
      }
    }
    const perRound = (name: string, base: string) => results.get(name)!.map((r, i) => r.rps / results.get(base)![i]!.rps);
    const out: Record<string, unknown> = {};
    for (const s of setups) {
      const rs = results.get(s.name)!;
      const rps = rs.map((r) => r.rps);
      const cpu = rs.map((r) => r.cpuUsPerRequest).filter((c): c is number => c !== null);
      out[s.name] = {
        rps: { median: Math.round(median(rps)), min: Math.round(Math.min(...rps)), max: Math.round(Math.max(...rps)) },
        p50Ms: median(rs.map((r) => r.p50)),
        p99Ms: { median: median(rs.map((r) => r.p99)), min: Math.min(...rs.map((r) => r.p99)), max: Math.max(...rs.map((r) => r.p99)) },
        cpuUsPerRequest: cpu.length ? { median: median(cpu), min: Math.min(...cpu), max: Math.max(...cpu) } : null,
        // Medians of per-round ratios: each against the baseline run of the same round.
        vsDirect: round2(median(perRound(s.name, 'direct'))),
        vsNginx: round2(median(perRound(s.name, 'nginx-proxy'))),
        vsBare: round2(median(perRound(s.name, 'bare-http-proxy'))),
        non2xx: rs.reduce((a, r) => a + r.non2xx, 0),
        errors: rs.reduce((a, r) => a + r.errors, 0),
        rounds: rs,
      };
    }
    const get = (n: string) => out[n] as { vsNginx: number };
    const report = {
      schemaVersion: 1,
      benchmark: 'nginx',
      at: new Date().toISOString(),
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version, nginx: spawnSync(nginx, ['-v'], { encoding: 'utf8' }).stderr.trim().replace(/^nginx version: /, '') || 'nginx', pinned: PIN },
      method: { rounds: ROUNDS, durationSeconds: DURATION, warmupSeconds: WARMUP, connections: CONNECTIONS, paths: REQUESTS.length },
      setups: out,
      targets: {
        canaryVsNginx: { target: 0.6, measured: get('cutover-canary-10').vsNginx },
        mirrorVsNginxMirror: { target: 1.5, measured: round2(median(perRound('cutover-mirror', 'nginx-mirror'))) },
      },
    };
    mkdirSync(dirname(OUT), { recursive: true });
    writeFileSync(OUT, JSON.stringify(report, null, 2) + '\n');
    process.stdout.write('\nsetup                      rps (median, min-max)   p99 ms    CPU µs/req  vs direct  vs nginx  vs bare\n');
    for (const s of setups) {
      const r = out[s.name] as { rps: { median: number; min: number; max: number }; p99Ms: { median: number }; cpuUsPerRequest: { median: number } | null; vsDirect: number; vsNginx: number; vsBare: number };
      process.stdout.write(
        `${s.name.padEnd(26)} ${`${r.rps.median} (${r.rps.min}-${r.rps.max})`.padEnd(23)} ${String(r.p99Ms.median).padStart(6)}  ${String(r.cpuUsPerRequest?.median ?? '-').padStart(10)}  ${r.vsDirect.toFixed(2).padStart(9)}  ${r.vsNginx.toFixed(2).padStart(8)}  ${r.vsBare.toFixed(2).padStart(7)}\n`,
      );
    }
    process.stdout.write(`\ntargets: cutover canary >= 0.6x nginx (${report.targets.canaryVsNginx.measured}), cutover mirror >= 1.5x nginx mirror (${report.targets.mirrorVsNginxMirror.measured})\nwrote ${OUT}\n`);
    return 0;
  } finally {
    // nginx first, and wait for it: its master reaps its worker on the way out.
    await Promise.all(
      children.map(
        (c) =>
          new Promise<void>((res) => {
            if (c.exitCode !== null || c.signalCode !== null) return res();
            const t = setTimeout(() => {
              c.kill('SIGKILL');
              res();
            }, 5000);
            c.once('exit', () => {
              clearTimeout(t);
              res();
            });
            c.kill(c === ngx ? 'SIGQUIT' : 'SIGTERM');
          }),
      ),
    );
    rmSync(prefix, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`bench:nginx failed: ${err?.stack ?? err}\n`);
    process.exit(1);
  },
);
