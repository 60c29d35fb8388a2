/**
 * Fixture processes for the state tests (a replica, a watcher, a writer): spawned through tsx,
 * speaking JSON lines on stdout, stopped by PID in stopFixtures().
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../helpers/processes.js';

export interface Fixture {
  child: ChildProcess;
  pid: number;
  /** Every JSON line printed so far. */
  events: Array<Record<string, any>>;
  stderr(): string;
  waitFor(pred: (e: Record<string, any>) => boolean, timeoutMs?: number, what?: string): Promise<Record<string, any>>;
  exited: Promise<number | string>;
  stop(): Promise<void>;
}

const running = new Set<ChildProcess>();

export function spawnFixture(name: string, args: string[], env: NodeJS.ProcessEnv = {}): Fixture {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test', 'state', 'fixtures', name), ...args], {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const events: Array<Record<string, any>> = [];
  const listeners = new Set<() => void>();
  let buf = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      try {
        events.push(JSON.parse(line));
      } catch {
        events.push({ text: line });
      }
    }
    for (const l of listeners) l();
  });
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | string>((res) =>
    child.on('exit', (code, sig) => {
      running.delete(child);
      res(code ?? sig ?? -1);
    }),
  );
  return {
    child,
    pid: child.pid!,
    events,
    stderr: () => err,
    exited,
    waitFor(pred, timeoutMs = 10_000, what = 'event') {
      return new Promise((res, rej) => {
        const check = () => {
          const hit = events.find(pred);
          if (hit) {
            listeners.delete(check);
            clearTimeout(t);
            res(hit);
          }
        };
        const t = setTimeout(() => {
          listeners.delete(check);
          rej(new Error(`${name} pid ${child.pid}: no ${what} within ${timeoutMs} ms; events: ${JSON.stringify(events.slice(-8))}; stderr: ${err.slice(-2000)}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      });
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      try {
        process.kill(child.pid!, 'SIGCONT');
      } catch {
        // already gone
      }
      child.kill('SIGKILL');
      await exited;
    },
  };
}

export async function stopFixtures(): Promise<void> {
  await Promise.all(
    [...running].map(
      (c) =>
        new Promise<void>((res) => {
          if (c.exitCode !== null || c.signalCode !== null) return res();
          c.once('exit', () => res());
          try {
            process.kill(c.pid!, 'SIGCONT');
          } catch {
            // gone
          }
          c.kill('SIGKILL');
        }),
    ),
  );
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A seed like cutover.yaml with two routes would give. */
export const SEED_CONFIG = {
  routes: [
    { name: 'balance', mode: 'mirror', weight: 0 },
    { name: 'tx', mode: 'legacy', weight: 0 },
  ],
  defaultRoute: { name: 'default', mode: 'legacy', weight: 0 },
} as const;
