/**
 * The embedded state store: one JSON file, no server.
 *
 * Beside `PATH` (e.g. `.cutover/state.json`):
 * - `state.history.jsonl`  the audit log, one entry a line, fsync'd;
 * - `state.json.lock`      the writers' lock (O_EXCL; see file-lock.ts);
 * - `state.replicas/`      one heartbeat file per replica;
 * - `state.lease.NAME.json` leases with an expiry.
 *
 * A write is: under the lock, re-read and compare the version, write a temp file in the same
 * folder, fsync it, rename it over the state file (the commit point), fsync the folder, then
 * append the history line. The state file also carries its own history entry (`lastChange`),
 * so an entry lost to a crash between the rename and the append is put back by the next writer
 * (and shown by readers meanwhile). A reader never sees a half-written file.
 *
 * Change notification: fs.watch on the folder (inotify on Linux: every process on the machine
 * notices within milliseconds) plus a stat poll as the fallback.
 */
import { mkdirSync, watch as fsWatch, type FSWatcher } from 'node:fs';
import { appendFile, mkdir, open, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { withFileLock } from './file-lock.js';
import { isCutoverError } from '../errors.js';
import { corrupt, StateConflictError, stateInput, unreachable, writeFailed } from './errors.js';
import { checkStoredState, stateProblem } from './validate.js';
import { diffStates } from './transitions.js';
import { historyEntry } from './history.js';
import { EpochTracker, newEpoch } from './versioning.js';
import {
  STATE_SCHEMA_VERSION,
  type ChangeMeta,
  type HistoryEntry,
  type ReplicaInfo,
  type RolloutState,
  type StateStore,
} from './types.js';

export interface FileStoreOptions {
  /** Base for a relative path (default: process.cwd()). */
  cwd?: string;
  /** Poll interval of the fallback; 500 ms while fs.watch works, 50 ms when it does not. */
  pollMs?: number;
  lockTimeoutMs?: number;
  /** Test hook: runs after the temp file is written and synced, before the rename. */
  beforeRename?: () => void | Promise<void>;
}

interface StateFile {
  state: RolloutState;
  lastChange?: HistoryEntry;
}

/** Heartbeats older than this are deleted when the registry is listed. */
const REPLICA_FORGET_MS = 60 * 60 * 1000;

export function filePathFromUrl(url: string, cwd = process.cwd()): string {
  let p = url.slice('file://'.length);
  if (p.startsWith('localhost/')) p = p.slice('localhost'.length);
  return isAbsolute(p) ? p : resolve(cwd, p);
}

function stem(path: string): string {
  const b = basename(path);
  return b.endsWith('.json') ? b.slice(0, -5) : b;
}

async function fsyncPath(path: string, flags = 'r'): Promise<void> {
  const fh = await open(path, flags);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Writes a small file through a temp file and a rename; the temp file is removed when either fails. */
async function writeThenRename(tmp: string, path: string, text: string): Promise<void> {
  try {
    await writeFile(tmp, text);
    await rename(tmp, path);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}

function tmpName(dir: string): string {
  return join(dir, `.tmp-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`);
}

export class FileStateStore implements StateStore {
  readonly url: string;
  readonly path: string;
  private readonly dir: string;
  private readonly historyPath: string;
  private readonly lockPath: string;
  private readonly replicasDir: string;
  private readonly opts: FileStoreOptions;

  private stateWatchers = new Set<(s: RolloutState) => void>();
  private replicaWatchers = new Set<(r: ReplicaInfo) => void>();
  private dirWatcher: FSWatcher | undefined;
  private replicaDirWatcher: FSWatcher | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private tracker = new EpochTracker();
  private checking = false;
  private checkAgain = false;
  private lastStat = '';
  private closed = false;

  constructor(url: string, opts: FileStoreOptions = {}) {
    this.url = url;
    this.opts = opts;
    this.path = filePathFromUrl(url, opts.cwd);
    this.dir = dirname(this.path);
    const s = stem(this.path);
    this.historyPath = join(this.dir, `${s}.history.jsonl`);
    this.lockPath = `${this.path}.lock`;
    this.replicasDir = join(this.dir, `${s}.replicas`);
  }

  // -------------------------------------------------------------------------------------------
  // State

  private async readFileDoc(): Promise<StateFile | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw unreachable(this.url, err);
    }
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (err) {
      throw corrupt(this.path, 'not valid JSON', err);
    }
    if (!doc || typeof doc !== 'object') throw corrupt(this.path, 'not a JSON object');
    const d = doc as Partial<StateFile> & Partial<RolloutState>;
    const state = checkStoredState(d.state ?? d, this.path);
    return { state, lastChange: d.state ? d.lastChange : undefined };
  }

  async read(): Promise<RolloutState | undefined> {
    return (await this.readFileDoc())?.state;
  }

  private async writeStateFile(doc: StateFile): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const tmp = tmpName(this.dir);
    const fh = await open(tmp, 'wx');
    try {
      await fh.writeFile(JSON.stringify(doc, null, 2) + '\n');
      await fh.sync();
    } catch (err) {
      await fh.close().catch(() => undefined);
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
    await fh.close();
    try {
      if (this.opts.beforeRename) await this.opts.beforeRename();
      await rename(tmp, this.path);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
    await fsyncPath(this.dir);
  }

  private async appendHistoryLine(entry: HistoryEntry): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const fh = await open(this.historyPath, 'a+');
    try {
      // a line torn by a crash mid-append is ended first, so that this entry stands on its own line
      const { size } = await fh.stat();
      let lead = '';
      if (size > 0) {
        const last = Buffer.alloc(1);
        await fh.read(last, 0, 1, size - 1);
        if (last[0] !== 0x0a) lead = '\n';
      }
      await fh.writeFile(lead + JSON.stringify(entry) + '\n');
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  /** The newest version the history file records (its last complete line). */
  private async lastHistoryVersion(): Promise<number> {
    let fh;
    try {
      fh = await open(this.historyPath, 'r');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw err;
    }
    try {
      const { size } = await fh.stat();
      const len = Math.min(size, 256 * 1024);
      const buf = Buffer.alloc(len);
      await fh.read(buf, 0, len, size - len);
      const lines = buf.toString('utf8').split('\n').filter(Boolean);
      for (let i = lines.length - 1; i >= 0; i--) {
        try {
          return (JSON.parse(lines[i]!) as HistoryEntry).version;
        } catch {
          // a torn last line: look at the one before
        }
      }
      return 0;
    } finally {
      await fh.close();
    }
  }

  /** Temp files of writers that died before their rename (same host, pid gone). */
  private async removeOrphanTemps(): Promise<void> {
    let files: string[];
    try {
      files = await readdir(this.dir);
    } catch {
      return;
    }
    for (const f of files) {
      const m = /^\.tmp-(\d+)-/.exec(f);
      if (!m || Number(m[1]) === process.pid) continue;
      try {
        process.kill(Number(m[1]), 0);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ESRCH') await unlink(join(this.dir, f)).catch(() => undefined);
      }
    }
  }

  /** Puts back a history entry lost to a crash between the state rename and the history append. */
  private async repairHistory(doc: StateFile | undefined): Promise<void> {
    if (!doc?.lastChange || doc.lastChange.version !== doc.state.version) return;
    if ((await this.lastHistoryVersion()) < doc.state.version) await this.appendHistoryLine(doc.lastChange);
  }

  private withLock<T>(fn: () => Promise<T>): Promise<T> {
    return this.io(() => withFileLock(this.lockPath, fn, { timeoutMs: this.opts.lockTimeoutMs }));
  }

  /** OS errors of a write (ENOSPC, EACCES, EROFS...) become CUTOVER_ERR_STATE_WRITE naming the file. */
  private async io<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (isCutoverError(err)) throw err;
      throw writeFailed(this.path, err);
    }
  }

  /** A state this store is asked to write must pass the same check as one it reads. */
  private checkWritable(state: RolloutState): void {
    const p = stateProblem(state);
    if (p) throw stateInput(`state.${p.field}`, p.reason);
  }

  /**
   * After the rename the change is committed; the history line is also in the state file
   * (`lastChange`), so a failed append (a disk that filled up meanwhile) is repaired by the next
   * writer instead of reporting a committed change as failed.
   */
  private async appendAfterCommit(entry: HistoryEntry): Promise<void> {
    await this.appendHistoryLine(entry).catch(() => undefined);
  }

  async compareAndSet(expectedVersion: number, next: Omit<RolloutState, 'version'>, meta: ChangeMeta): Promise<RolloutState> {
    await this.io(() => mkdir(this.dir, { recursive: true }));
    return this.withLock(async () => {
      const cur = await this.readFileDoc();
      const curVersion = cur?.state.version ?? 0;
      if (curVersion !== expectedVersion) throw new StateConflictError(expectedVersion, curVersion);
      await this.repairHistory(cur);
      await this.removeOrphanTemps();
      const at = new Date().toISOString();
      const state: RolloutState = {
        ...next,
        schemaVersion: STATE_SCHEMA_VERSION,
        version: expectedVersion + 1,
        epoch: next.epoch ?? cur?.state.epoch ?? newEpoch(),
        updatedBy: meta.by,
        updatedAt: at,
      };
      this.checkWritable(state);
      const entry = historyEntry(state.version, at, meta, meta.changes ?? diffStates(cur?.state, state));
      await this.writeStateFile({ state, lastChange: entry });
      await this.appendAfterCommit(entry);
      return state;
    });
  }

  async restore(state: RolloutState, meta: ChangeMeta): Promise<RolloutState> {
    await this.io(() => mkdir(this.dir, { recursive: true }));
    return this.withLock(async () => {
      const cur = await this.readFileDoc();
      if (cur) throw new StateConflictError(0, cur.state.version);
      const at = new Date().toISOString();
      const restored: RolloutState = { ...state, schemaVersion: STATE_SCHEMA_VERSION, updatedBy: meta.by, updatedAt: at };
      this.checkWritable(restored);
      const entry = historyEntry(restored.version, at, meta, meta.changes ?? diffStates(undefined, restored));
      await this.writeStateFile({ state: restored, lastChange: entry });
      await this.appendAfterCommit(entry);
      return restored;
    });
  }

  async history(opts: { limit?: number; sinceVersion?: number } = {}): Promise<HistoryEntry[]> {
    let text = '';
    try {
      text = await readFile(this.historyPath, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const entries: HistoryEntry[] = [];
    for (const line of text.split('\n')) {
      if (!line) continue;
      try {
        entries.push(JSON.parse(line) as HistoryEntry);
      } catch {
        // a line torn by a crash mid-append: skipped
      }
    }
    const doc = await this.readFileDoc().catch(() => undefined);
    const lastVersion = entries.length ? entries[entries.length - 1]!.version : 0;
    if (doc?.lastChange && doc.lastChange.version === doc.state.version && lastVersion < doc.state.version) entries.push(doc.lastChange);
    let out = opts.sinceVersion !== undefined ? entries.filter((e) => e.version > opts.sinceVersion!) : entries;
    if (opts.limit !== undefined) out = out.slice(-opts.limit);
    return out;
  }

  async appendHistory(entry: Omit<HistoryEntry, 'version' | 'at'> & { at?: string }): Promise<void> {
    await this.io(() => mkdir(this.dir, { recursive: true }));
    await this.withLock(async () => {
      const cur = await this.readFileDoc();
      await this.repairHistory(cur);
      await this.appendHistoryLine({ ...entry, version: cur?.state.version ?? 0, at: entry.at ?? new Date().toISOString() });
    });
  }

  // -------------------------------------------------------------------------------------------
  // Watching

  watch(onChange: (state: RolloutState) => void): () => void {
    this.stateWatchers.add(onChange);
    this.startWatching();
    void this.check();
    return () => {
      this.stateWatchers.delete(onChange);
      if (this.stateWatchers.size === 0) this.stopWatching();
    };
  }

  private startWatching(): void {
    if (this.dirWatcher || this.pollTimer || this.closed) return;
    const base = basename(this.path);
    let watching = false;
    try {
      // mkdir is sync here so that the watch starts before this call returns
      mkdirSyncQuiet(this.dir);
      this.dirWatcher = fsWatch(this.dir, { persistent: false }, (_event, filename) => {
        if (filename === null || filename === base) void this.check();
      });
      this.dirWatcher.on('error', () => {
        this.dirWatcher?.close();
        this.dirWatcher = undefined;
        this.restartPoll(50);
      });
      watching = true;
    } catch {
      watching = false;
    }
    this.restartPoll(this.opts.pollMs ?? (watching ? 500 : 50));
  }

  private restartPoll(ms: number): void {
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = setInterval(() => void this.pollStat(), ms);
    this.pollTimer.unref();
  }

  private stopWatching(): void {
    this.dirWatcher?.close();
    this.dirWatcher = undefined;
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = undefined;
  }

  private async pollStat(): Promise<void> {
    try {
      const s = await stat(this.path);
      const key = `${s.ino}:${s.mtimeMs}:${s.size}`;
      if (key === this.lastStat) return;
      this.lastStat = key;
    } catch {
      return;
    }
    await this.check();
  }

  /** Reads the file and hands a newer state to the watchers. One read at a time; a change during it triggers another. */
  private async check(): Promise<void> {
    if (this.checking) {
      this.checkAgain = true;
      return;
    }
    this.checking = true;
    try {
      do {
        this.checkAgain = false;
        let state: RolloutState | undefined;
        try {
          state = await this.read();
        } catch {
          state = undefined;
        }
        if (state && this.tracker.offer(state)) {
          for (const w of this.stateWatchers) w(state);
        }
      } while (this.checkAgain && !this.closed);
    } finally {
      this.checking = false;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Replicas

  private replicaFile(id: string): string {
    return join(this.replicasDir, `${encodeURIComponent(id)}.json`);
  }

  async heartbeat(replica: ReplicaInfo): Promise<void> {
    await this.io(async () => {
      await mkdir(this.replicasDir, { recursive: true });
      await writeThenRename(tmpName(this.replicasDir), this.replicaFile(replica.id), JSON.stringify(replica));
    });
  }

  async removeReplica(id: string): Promise<void> {
    await unlink(this.replicaFile(id)).catch(() => undefined);
  }

  private async readReplica(file: string): Promise<ReplicaInfo | undefined> {
    try {
      return JSON.parse(await readFile(join(this.replicasDir, file), 'utf8')) as ReplicaInfo;
    } catch {
      return undefined;
    }
  }

  async replicas(): Promise<ReplicaInfo[]> {
    let files: string[];
    try {
      files = await readdir(this.replicasDir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out: ReplicaInfo[] = [];
    const now = Date.now();
    for (const f of files) {
      if (!f.endsWith('.json') || f.startsWith('.')) continue;
      const r = await this.readReplica(f);
      if (!r) continue;
      if (now - Date.parse(r.lastSeen) > REPLICA_FORGET_MS) {
        await unlink(join(this.replicasDir, f)).catch(() => undefined);
        continue;
      }
      out.push(r);
    }
    return out.sort((a, b) => a.id.localeCompare(b.id));
  }

  watchReplicas(onHeartbeat: (replica: ReplicaInfo) => void): () => void {
    this.replicaWatchers.add(onHeartbeat);
    if (!this.replicaDirWatcher && !this.closed) {
      try {
        mkdirSyncQuiet(this.replicasDir);
        this.replicaDirWatcher = fsWatch(this.replicasDir, { persistent: false }, (_event, filename) => {
          if (!filename || filename.startsWith('.') || !filename.endsWith('.json')) return;
          void this.readReplica(filename).then((r) => {
            if (r) for (const w of this.replicaWatchers) w(r);
          });
        });
        this.replicaDirWatcher.on('error', () => undefined);
      } catch {
        // no watch: waiters fall back to polling replicas()
      }
    }
    return () => {
      this.replicaWatchers.delete(onHeartbeat);
      if (this.replicaWatchers.size === 0) {
        this.replicaDirWatcher?.close();
        this.replicaDirWatcher = undefined;
      }
    };
  }

  // -------------------------------------------------------------------------------------------
  // Leases

  private leaseFile(name: string): string {
    return join(this.dir, `${stem(this.path)}.lease.${encodeURIComponent(name)}.json`);
  }

  async acquireLease(name: string, holder: string, ttlMs: number): Promise<{ ok: true } | { ok: false; holder: string }> {
    await this.io(() => mkdir(this.dir, { recursive: true }));
    return this.withLock(async () => {
      const file = this.leaseFile(name);
      let cur: { holder: string; expiresAt: number } | undefined;
      try {
        cur = JSON.parse(await readFile(file, 'utf8'));
      } catch {
        cur = undefined;
      }
      if (cur && cur.holder !== holder && cur.expiresAt > Date.now()) return { ok: false as const, holder: cur.holder };
      await writeThenRename(tmpName(this.dir), file, JSON.stringify({ holder, expiresAt: Date.now() + ttlMs }));
      return { ok: true as const };
    });
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    await this.io(() => mkdir(this.dir, { recursive: true }));
    await this.withLock(async () => {
      const file = this.leaseFile(name);
      try {
        const cur = JSON.parse(await readFile(file, 'utf8')) as { holder: string };
        if (cur.holder === holder) await unlink(file);
      } catch {
        // no lease: nothing to release
      }
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stopWatching();
    this.replicaDirWatcher?.close();
    this.replicaDirWatcher = undefined;
    this.stateWatchers.clear();
    this.replicaWatchers.clear();
  }
}

function mkdirSyncQuiet(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch {
    // the watch call that follows reports the problem
  }
}
