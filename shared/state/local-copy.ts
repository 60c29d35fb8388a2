/**
 * A replica's own folder on its local disk (config `localState`):
 * - `last-applied.json`  the last rollout state it applied (validated like any stored state) and
 *   the store it came from, so that a fleet restarted against that store empty (Redis without
 *   persistence) comes back from its newest state, an abort included, not from cutover.yaml; a
 *   copy from another store URL is never used;
 * - `override.json`      a break-glass abort taken while the store could not be written; it
 *   outlives a restart and is only cleared by a `resume` seen in the store after the abort
 *   reached it.
 * Writes go through a temp file and a rename; a failed write (a full disk) removes its temp file
 * and is reported, never thrown at the routing code.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { mkdir, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stateProblem } from './validate.js';
import type { RolloutState } from './types.js';

/** An abort this replica took on its own because the store could not be written. */
export interface LocalOverride {
  id: string;
  reason: string;
  by: string;
  /** ISO time it was taken. */
  at: string;
  /** The routes held at legacy; absent: every route. (A file written before services also reads `route`.) */
  routes?: string[];
  /** The services (V2 upstreams) the abort(s) named, when they named some. */
  upstreams?: string[];
  ticket?: string;
  /** The store state that holds it (epoch and version), once written there. */
  synced?: { epoch: string; version: number };
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

export class LocalReplicaFiles {
  readonly dir: string;
  private readonly appliedPath: string;
  private readonly overridePath: string;
  private pendingApplied: RolloutState | undefined;
  private writingApplied: Promise<void> | undefined;
  /** The last write error (full disk, read-only), cleared by the next write that works. */
  lastError: string | undefined;

  private readonly storeUrl: string;

  constructor(dir: string, storeUrl: string) {
    this.dir = dir;
    this.storeUrl = storeUrl;
    this.appliedPath = join(dir, 'last-applied.json');
    this.overridePath = join(dir, 'override.json');
  }

  /** The newest local copy, or undefined when there is none or it fails validation. */
  loadApplied(): RolloutState | undefined {
    const doc = readJson(this.appliedPath) as { storeUrl?: unknown; state?: unknown } | undefined;
    if (!doc || doc.storeUrl !== this.storeUrl || stateProblem(doc.state)) return undefined;
    return doc.state as RolloutState;
  }

  loadOverride(): LocalOverride | undefined {
    const o = readJson(this.overridePath) as Partial<LocalOverride> | undefined;
    if (!o || typeof o.id !== 'string' || typeof o.reason !== 'string' || typeof o.by !== 'string' || typeof o.at !== 'string') return undefined;
    const { route, ...rest } = o as Partial<LocalOverride> & { route?: unknown };
    const routes = Array.isArray(o.routes) ? o.routes.filter((r): r is string => typeof r === 'string') : typeof route === 'string' ? [route] : undefined;
    const out = { ...rest } as LocalOverride;
    if (routes) out.routes = routes;
    else delete out.routes;
    return out;
  }

  /** Keeps the newest state; writes never overlap and a state asked for meanwhile is written next. */
  saveApplied(state: RolloutState): Promise<void> {
    this.pendingApplied = state;
    this.writingApplied ??= (async () => {
      while (this.pendingApplied) {
        const s = this.pendingApplied;
        this.pendingApplied = undefined;
        await this.write(this.appliedPath, { storeUrl: this.storeUrl, state: s });
      }
    })().finally(() => {
      this.writingApplied = undefined;
    });
    return this.writingApplied;
  }

  /** Writes (or, with undefined, removes) the override; resolves false when the disk refused it. */
  async saveOverride(o: LocalOverride | undefined): Promise<boolean> {
    if (o) return this.write(this.overridePath, o);
    await unlink(this.overridePath).catch(() => undefined);
    return true;
  }

  /** Creates the folder now (sync), so that a bad path is reported at start. */
  ensureDir(): void {
    mkdirSync(this.dir, { recursive: true });
  }

  private async write(path: string, doc: unknown): Promise<boolean> {
    const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
    try {
      await mkdir(this.dir, { recursive: true });
      await writeFile(tmp, JSON.stringify(doc) + '\n');
      await rename(tmp, path);
      this.lastError = undefined;
      return true;
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      this.lastError = `${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
      return false;
    }
  }
}
