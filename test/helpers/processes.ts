/**
 * Real processes on loopback for tests: free ports, the cutover CLI as a child process,
 * a private redis-server, and waiting for an HTTP endpoint to answer. Everything started
 * here is stopped by PID in `stopAll()` (call it in afterAll/afterEach).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..', '..');
// Absolute, so a child started with another cwd still finds the loader.
const TSX_LOADER = import.meta.resolve('tsx');
const started = new Set<ChildProcess>();

// Ports for the processes tests start, and often kill and start again on the same port (Redis,
// Sentinel, a CLI's --listen), come from a window of this test worker's own below the kernel's
// ephemeral range (32768+): no listen(0) anywhere, and no other worker of this suite, is handed a
// port a test has just freed and is about to bind again. A random start keeps two suites side by
// side apart as well, and a bind check skips ports in use.
const PORT_WINDOW = 1500;
const PORT_BASE = 20_000 + (Number(process.env.VITEST_POOL_ID ?? 0) % 8) * PORT_WINDOW;
let portCursor = Math.floor(Math.random() * PORT_WINDOW);

function canBind(port: number): Promise<boolean> {
  return new Promise((res) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => res(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => res(true)));
  });
}

function ephemeralPort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => res(port));
    });
  });
}

export async function freePort(): Promise<number> {
  for (let tries = 0; tries < PORT_WINDOW; tries++) {
    const port = PORT_BASE + (portCursor++ % PORT_WINDOW);
    if (await canBind(port)) return port;
  }
  return ephemeralPort();
}

export function tempDir(prefix = 'cutover-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface Spawned {
  child: ChildProcess;
  pid: number;
  output(): string;
  /** Resolves with the exit code (or signal name) when the process ends. */
  exited: Promise<number | string>;
  waitForOutput(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  stop(signal?: NodeJS.Signals): Promise<number | string>;
}

export function track(child: ChildProcess): Spawned {
  started.add(child);
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const l of listeners) l();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<number | string>((res) => {
    child.on('exit', (code, sig) => {
      started.delete(child);
      res(code ?? sig ?? -1);
    });
  });
  return {
    child,
    pid: child.pid!,
    output: () => out,
    exited,
    waitForOutput(re, timeoutMs = 15_000) {
      return new Promise((res, rej) => {
        const check = () => {
          const m = out.match(re);
          if (m) {
            listeners.delete(check);
            clearTimeout(t);
            res(m);
          }
        };
        const t = setTimeout(() => {
          listeners.delete(check);
          rej(new Error(`timed out waiting for ${re} in output:\n${out}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      });
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const r = await exited;
      clearTimeout(killer);
      return r;
    },
  };
}

/**
 * Runs the cutover CLI from source through tsx (no build needed, type errors elsewhere do
 * not stop it). Use `spawnBuiltCutover` where the built binary itself is under test.
 */
export function spawnCutover(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Spawned {
  const child = spawn(process.execPath, ['--import', TSX_LOADER, join(ROOT, 'rollout-cli', 'entry.ts'), ...args], {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, NO_COLOR: '1', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return track(child);
}

export function spawnBuiltCutover(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Spawned {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'cutover.js'), ...args], {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, NO_COLOR: '1', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return track(child);
}

/** Runs the CLI to completion; returns its exit code and output. */
export async function runCutover(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', TSX_LOADER, join(ROOT, 'rollout-cli', 'entry.ts'), ...args], {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, NO_COLOR: '1', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
  const code = await new Promise<number | string>((res) =>
    child.on('exit', (c, s) => {
      started.delete(child);
      res(c ?? s ?? -1);
    }),
  );
  clearTimeout(timer);
  return { code, stdout, stderr };
}

export interface RedisHandle {
  port: number;
  url: string;
  proc: Spawned;
  stop(): Promise<void>;
}

/** A private redis-server on a free port, nothing persisted (`extraArgs` are appended: `--rename-command CONFIG ""`...). */
export async function startRedis(port?: number, extraArgs: string[] = []): Promise<RedisHandle> {
  const p = port ?? (await freePort());
  const child = spawn('redis-server', ['--port', String(p), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...extraArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const proc = track(child);
  await proc.waitForOutput(/Ready to accept connections/, 10_000);
  return {
    port: p,
    url: `redis://127.0.0.1:${p}/0`,
    proc,
    async stop() {
      await proc.stop('SIGKILL');
    },
  };
}

/** Polls `url` until it answers with a status below 500 (or `okStatus`). */
export async function waitForHttp(url: string, timeoutMs = 15_000, okStatus?: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const r = await fetch(url);
      await r.arrayBuffer();
      if (okStatus === undefined ? r.status < 500 : r.status === okStatus) return;
      last = `status ${r.status}`;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms: ${String(last)}`);
}

/** Whether a process with this pid exists (signal 0 tests without sending anything). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function stopAll(): Promise<void> {
  await Promise.all(
    [...started].map(
      (c) =>
        new Promise<void>((res) => {
          if (c.exitCode !== null || c.signalCode !== null) return res();
          c.once('exit', () => res());
          c.kill('SIGKILL');
        }),
    ),
  );
}
