/**
 * A cross-process lock on one file: created with O_EXCL, holding the owner's pid, host and
 * time. A lock left behind by a process that died (same host, pid gone) or older than
 * `staleMs` is taken over. Held for the few milliseconds of a read-compare-write.
 */
import { hostname } from 'node:os';
import { link, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { CutoverError } from '../errors.js';
import { STATE_ERR_UNREACHABLE } from './errors.js';

const HOST = hostname();

interface LockOwner {
  pid: number;
  host: string;
  at: number;
  token: string;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function isStale(owner: LockOwner | undefined, staleMs: number): boolean {
  if (!owner) return false;
  if (owner.host === HOST && owner.pid !== process.pid && !pidAlive(owner.pid)) return true;
  return Date.now() - owner.at > staleMs;
}

async function readOwner(path: string): Promise<LockOwner | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as LockOwner;
  } catch {
    return undefined;
  }
}

/** How long an empty or unparsable lock file may stand before it is judged left behind. */
const UNREADABLE_STALE_MS = 1000;

async function unreadableFor(path: string): Promise<number> {
  try {
    return Date.now() - (await stat(path)).mtimeMs;
  } catch {
    return 0;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function withFileLock<T>(lockPath: string, fn: () => Promise<T>, opts: { timeoutMs?: number; staleMs?: number } = {}): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const staleMs = opts.staleMs ?? 10_000;
  const owner: LockOwner = { pid: process.pid, host: HOST, at: Date.now(), token: Math.random().toString(36).slice(2) };
  const deadline = Date.now() + timeoutMs;
  let wait = 1;
  let unreadable = 0;
  for (;;) {
    try {
      const fh = await open(lockPath, 'wx');
      try {
        await fh.writeFile(JSON.stringify(owner));
      } catch (err) {
        // a full disk: an empty lock file left here would block every writer until it goes stale
        await fh.close().catch(() => undefined);
        await unlink(lockPath).catch(() => undefined);
        throw err;
      }
      await fh.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const held = await readOwner(lockPath);
    // A lock file caught between create and write reads as empty for a moment; one that stays
    // unreadable was left by a writer killed in between (SIGKILL, power loss) and is stale.
    unreadable = held ? 0 : unreadable + 1;
    if (isStale(held, staleMs) || unreadable > 200 || (held === undefined && (await unreadableFor(lockPath)) > UNREADABLE_STALE_MS)) await takeOver(lockPath, held);
    if (Date.now() > deadline) {
      throw new CutoverError(
        STATE_ERR_UNREACHABLE,
        `the state file lock ${lockPath} has been held by pid ${held?.pid ?? '?'} on ${held?.host ?? '?'} for over ${timeoutMs} ms; if that process is gone, delete the lock file`,
        { exitCode: 1, status: 503 },
      );
    }
    await sleep(wait);
    wait = Math.min(wait * 2, 20);
  }
  try {
    return await fn();
  } finally {
    const now = await readOwner(lockPath);
    if (now?.token === owner.token) await unlink(lockPath).catch(() => undefined);
  }
}

/** Moves a stale lock aside; puts it back if it turns out another process took over first. */
async function takeOver(lockPath: string, judged: LockOwner | undefined): Promise<void> {
  const aside = `${lockPath}.stale-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    await rename(lockPath, aside);
  } catch {
    return;
  }
  const moved = await readOwner(aside);
  if (judged && moved && moved.token !== judged.token) {
    await link(aside, lockPath).catch(() => undefined);
  }
  await unlink(aside).catch(() => undefined);
}
