/**
 * What the throughput benchmarks share: pinning processes to a core with taskset, starting a
 * benchmarks/ script under tsx and reading the port it prints, CPU ticks from /proc, and the
 * request mix every setup is measured with.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..');

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
/** True when processes can be pinned to a core (taskset exists). */
export const PIN = hasTaskset();

export const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/** Spawn `cmd` pinned to `core` when taskset exists (taskset execs in place: same PID). */
export function pinned(core: number, cmd: string, args: string[], env?: NodeJS.ProcessEnv): ChildProcess {
  const opts = { cwd: ROOT, env: env ? { ...process.env, ...env } : process.env };
  return PIN ? spawn('taskset', ['-c', String(core), cmd, ...args], opts) : spawn(cmd, args, opts);
}

export interface Started {
  proc: ChildProcess;
  port: number;
  /** A second number after the port, when the script prints one (the origin's body size). */
  bytes?: number;
  /** The admin plane's URL, when the script prints `admin URL` with its port (cutover's proxy). */
  admin?: string;
}

/**
 * Node flags for every proxy (the processes on core 0), bare ones and cutover alike, from
 * BENCH_NODE_FLAGS (e.g. `--max-semi-space-size=64`): runtime tuning compared like for like.
 */
const PROXY_NODE_FLAGS = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter((f) => f !== '');

/** A TS script of benchmarks/ under tsx; resolves once it prints `listening PORT [BYTES]`. */
export function startScript(script: string, args: string[], core: number, env?: NodeJS.ProcessEnv): Promise<Started> {
  const flags = core === 0 ? PROXY_NODE_FLAGS : [];
  const proc = pinned(core, process.execPath, [...flags, '--import', 'tsx', join(ROOT, 'benchmarks', script), ...args], env);
  return new Promise((res, rej) => {
    let out = '';
    const timer = setTimeout(() => rej(new Error(`${script} did not start: ${out}`)), 30_000);
    proc.stderr!.on('data', (d) => (out += d));
    proc.stdout!.on('data', (d) => {
      out += d;
      const m = /listening (\d+)(?: (\d+))?\n/.exec(out);
      if (m) {
        clearTimeout(timer);
        const admin = /^admin (\S+)$/m.exec(out)?.[1];
        res({ proc, port: Number(m[1]), bytes: m[2] ? Number(m[2]) : undefined, admin });
      }
    });
    proc.on('exit', (code) => rej(new Error(`${script} exited ${code}: ${out}`)));
  });
}

/** Median of a non-empty list. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export const round2 = (x: number) => Math.round(x * 100) / 100;

/** CPU µs per request from a difference of /proc CPU ticks, one decimal. */
export function cpuUsPerRequest(ticks: number, requests: number): number {
  return Math.round(((ticks * 1e6) / CLK_TCK / Math.max(1, requests)) * 10) / 10;
}

/** User + system CPU ticks a process has used so far. */
export function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the full line (11 and 12 after the command).
  return Number(fields[11]) + Number(fields[12]);
}

/** 64 accounts so a canary's sticky key varies; every setup gets the same paths. */
export const BALANCE_REQUESTS = Array.from({ length: 64 }, (_, i) => ({
  method: 'GET' as const,
  path: `/accounts/ACC-${String(i * 7919).padStart(6, '0')}/balance`,
}));

/**
 * cutover's proxy as a user runs it: `node bin/cutover.js proxy --config FILE` (dist/, no tsx
 * loader in the process or its worker threads), pinned to `core`. Resolves once both planes
 * print their address.
 */
export function startShippedProxy(configFile: string, core: number, env?: NodeJS.ProcessEnv): Promise<Started> {
  const proc = pinned(core, process.execPath, [join(ROOT, 'bin', 'cutover.js'), 'proxy', '--config', configFile], { CUTOVER_LOG_LEVEL: 'warn', ...env });
  return new Promise((res, rej) => {
    let out = '';
    const timer = setTimeout(() => rej(new Error(`cutover proxy did not start: ${out}`)), 30_000);
    const read = (d: Buffer) => {
      out += d;
      const data = /data plane listening on http:\/\/[^:\s]+:(\d+)/.exec(out);
      const admin = /admin plane listening on (http:\/\/\S+)/.exec(out);
      if (data && admin) {
        clearTimeout(timer);
        res({ proc, port: Number(data[1]), admin: admin[1] });
      }
    };
    proc.stdout!.on('data', read);
    proc.stderr!.on('data', read);
    proc.on('exit', (code) => rej(new Error(`cutover proxy exited ${code}: ${out}`)));
  });
}
