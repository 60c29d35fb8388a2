/**
 * `cutover abort` when the store cannot take the abort (down, corrupt, full disk, read-only):
 * every replica admin plane it can find takes the abort locally (POST /admin/abort with
 * `local: true`), keeps it on its disk and writes it to the store when the store takes writes.
 *
 * Where the replicas are: the `--admin` URLs, `breakGlass.admins` and every address of
 * `breakGlass.adminDns` in cutover.yaml, the registry when it can still be read, and the
 * registry as this machine last saw it (replica-cache.ts).
 */
import { lookup } from 'node:dns/promises';
import type { CutoverConfig } from '../shared/config.js';
import { adminRequest, type AdminErrorBody } from './target.js';

export interface BreakGlassReplica {
  url: string;
  replicaId?: string;
  /** The replica routes every route (or the ones named) to legacy now. */
  applied: boolean;
  /** The routes this abort moved there (absent: every route). */
  routes?: string[];
  /** Every route its override holds at legacy now (absent: every route): earlier local aborts add to it. */
  holds?: string[];
  /** Its local disk holds the abort (a restart keeps it). */
  persisted?: boolean;
  persistError?: string;
  error?: string;
}

/** Admin URLs from cutover.yaml: the list, then every address the DNS name resolves to. */
export async function configAdmins(config: Readonly<CutoverConfig> | undefined): Promise<{ urls: string[]; errors: string[] }> {
  const urls = [...(config?.breakGlass?.admins ?? [])].map((u) => u.replace(/\/+$/, ''));
  const errors: string[] = [];
  const dns = config?.breakGlass?.adminDns;
  if (dns) {
    const i = dns.lastIndexOf(':');
    const host = dns.slice(0, i);
    const port = dns.slice(i + 1);
    try {
      const addrs = await lookup(host, { all: true });
      for (const a of addrs) urls.push(`http://${a.family === 6 ? `[${a.address}]` : a.address}:${port}`);
    } catch (err) {
      errors.push(`breakGlass.adminDns ${dns}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  return { urls, errors };
}

/** Sends the local abort to every URL at once; each answer within `timeoutMs`. */
export async function fanOutAbort(
  urls: string[],
  token: string | undefined,
  body: { reason: string; route?: string; upstream?: string; by: string },
  timeoutMs = 2000,
): Promise<BreakGlassReplica[]> {
  return Promise.all(
    urls.map(async (url): Promise<BreakGlassReplica> => {
      try {
        const r = await adminRequest(url, token, 'POST', '/admin/abort', { ...body, local: true }, timeoutMs);
        const b = r.body as
          | (AdminErrorBody & { replicaId?: string; applied?: boolean; routes?: string[]; breakGlass?: { persisted?: boolean; persistError?: string; override?: { routes?: string[] } | null } })
          | undefined;
        if (!r.ok || !b?.applied) {
          return { url, applied: false, error: b?.error?.message ?? `HTTP ${r.status}` };
        }
        const holds = b.breakGlass?.override?.routes;
        return {
          url,
          replicaId: b.replicaId,
          applied: true,
          persisted: b.breakGlass?.persisted,
          persistError: b.breakGlass?.persistError,
          ...(b.routes ? { routes: b.routes } : {}),
          ...(holds ? { holds } : {}),
        };
      } catch (err) {
        return { url, applied: false, error: (err as Error).message };
      }
    }),
  );
}
