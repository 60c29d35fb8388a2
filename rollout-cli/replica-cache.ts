/**
 * The admin planes `cutover` last saw in a store's replica registry, kept in the user's cache
 * folder (`$XDG_CACHE_HOME/cutover` or `~/.cache/cutover`), one small file per store URL. When
 * the store is down, `cutover abort` still knows where the replicas were (break-glass). Writes are
 * best effort: a full disk or a read-only home never fails a command.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { ReplicaInfo } from '../shared/state/types.js';

/** Replicas silent for longer than this are not worth a try. */
const FORGET_MS = 24 * 3600 * 1000;

function cacheFile(storeUrl: string): string {
  const base = process.env.CUTOVER_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'cutover');
  return join(base, `replicas-${createHash('sha256').update(storeUrl).digest('hex').slice(0, 16)}.json`);
}

/** The admin URLs of replicas heard from within a day, newest first. */
export function replicaAdmins(replicas: ReadonlyArray<Pick<ReplicaInfo, 'adminUrl' | 'lastSeen'>>): string[] {
  const now = Date.now();
  return [...new Set(
    [...replicas]
      .filter((r) => r.adminUrl && now - Date.parse(r.lastSeen) <= FORGET_MS)
      .sort((a, b) => Date.parse(b.lastSeen) - Date.parse(a.lastSeen))
      .map((r) => r.adminUrl!),
  )];
}

export function rememberReplicas(storeUrl: string, replicas: ReadonlyArray<ReplicaInfo>): void {
  const admins = replicas.filter((r) => r.adminUrl).map((r) => ({ adminUrl: r.adminUrl, lastSeen: r.lastSeen, id: r.id }));
  if (admins.length === 0) return;
  const file = cacheFile(storeUrl);
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(tmp, JSON.stringify({ at: new Date().toISOString(), replicas: admins }));
    renameSync(tmp, file);
  } catch {
    try {
      unlinkSync(tmp);
    } catch {
      // nothing was written
    }
  }
}

export function recalledAdmins(storeUrl: string): string[] {
  try {
    const doc = JSON.parse(readFileSync(cacheFile(storeUrl), 'utf8')) as { replicas?: Array<{ adminUrl?: string; lastSeen: string }> };
    return replicaAdmins(doc.replicas ?? []);
  } catch {
    return [];
  }
}
