/**
 * `cutover waive add|list|remove`: accepted differences, kept in the rollout state so every
 * replica's verifier applies them. Through the state store (`--state`, or `state:` in
 * cutover.yaml) or a proxy's admin API (`--admin`); every change is a compare-and-set with a
 * history entry (action `waiver`).
 */
import { CutoverError } from '../../shared/errors.js';
import { DEFAULT_STATE_URL, type CutoverConfig } from '../../shared/config.js';
import { initialStateFromConfig, openStateStore } from '../../shared/state/index.js';
import type { RolloutState, Waiver } from '../../shared/state/types.js';
import { waiverConflict } from '../../verifier/errors.js';
import { addWaiver, listWaivers, removeWaiver } from '../../verifier/waiver-store.js';
import { addWaiverTo, buildWaiver, isActive, removeWaiverFrom, type WaiverChange, type WaiverInput } from '../../verifier/waivers.js';
import { usageError } from '../errors.js';
import { painter, printJson, table } from '../output.js';
import { adminAuthError, adminRequest, CLI_ERR_ADMIN, defaultBy, loadOptionalConfig, type AdminErrorBody } from '../target.js';

interface Backend {
  where: string;
  list(): Promise<Waiver[]>;
  add(input: WaiverInput & { author: string }): Promise<Waiver>;
  remove(id: string, by: string, reason: string | undefined): Promise<Waiver>;
  close(): Promise<void>;
}

function storeBackend(url: string, config: Readonly<CutoverConfig> | undefined): Backend {
  const store = openStateStore(url);
  const seed = config ? () => initialStateFromConfig(config) : undefined;
  return {
    where: url,
    list: () => listWaivers(store),
    add: (input) => addWaiver(store, input, { seed }),
    remove: (id, by, reason) => removeWaiver(store, id, by, reason, { seed }),
    close: () => store.close(),
  };
}

function adminBackend(base: string, token: string | undefined): Backend {
  const call = async <T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const res = await adminRequest(base, token, method, path, body);
    if (res.ok || res.status === 409) return { status: res.status, body: res.body as T };
    const e = (res.body as AdminErrorBody | undefined)?.error;
    const message = e?.message ?? `HTTP ${res.status} from ${base}${path}`;
    if (res.status === 401 || res.status === 403) throw adminAuthError(e?.code, message, res.status);
    throw new CutoverError(e?.code ?? CLI_ERR_ADMIN, message, { exitCode: res.status === 400 ? 2 : 1, status: res.status });
  };
  const read = async (): Promise<RolloutState | undefined> => (await call<{ state: RolloutState | null }>('GET', '/admin/state')).body?.state ?? undefined;
  const update = async (by: string, reason: string, change: (s: RolloutState) => WaiverChange): Promise<void> => {
    for (let attempt = 1; attempt <= 5; attempt++) {
      const cur = await read();
      if (!cur) throw new CutoverError(CLI_ERR_ADMIN, `the proxy at ${base} has no rollout state yet; wait for it to start, or use --state`, { exitCode: 1 });
      const { next } = change(cur);
      const r = await call('PUT', '/admin/state', { expectedVersion: cur.version, state: next, meta: { by, action: 'waiver', reason } });
      if (r.status !== 409) return;
      // The proxy may not have applied the newest state yet: give it a moment.
      await new Promise((res) => setTimeout(res, 100 * attempt));
    }
    throw waiverConflict(5);
  };
  return {
    where: base,
    list: async () => (await read())?.waivers ?? [],
    add: async (input) => {
      const w = buildWaiver(input);
      await update(w.author, w.reason, (s) => addWaiverTo(s, w));
      return w;
    },
    remove: async (id, by, reason) => {
      let removed: Waiver | undefined;
      await update(by, reason ?? `remove waiver ${id}`, (s) => {
        const r = removeWaiverFrom(s, id);
        removed = r.removed;
        return r;
      });
      return removed!;
    },
    close: async () => undefined,
  };
}

async function backendFor(opts: Record<string, any>): Promise<Backend> {
  if (opts.state && opts.admin) throw usageError('--state', 'give either --state or --admin, not both');
  const config = await loadOptionalConfig(opts.config);
  if (opts.admin) {
    if (!/^https?:\/\/[^\s/]+/.test(opts.admin)) throw usageError('--admin', `${opts.admin} is not an http:// URL (for example http://127.0.0.1:8081)`);
    return adminBackend(String(opts.admin).replace(/\/+$/, ''), opts.token ?? process.env.CUTOVER_ADMIN_TOKEN ?? config?.adminToken);
  }
  return storeBackend(opts.state ?? config?.state ?? DEFAULT_STATE_URL, config);
}

function describe(w: Waiver): string {
  return `${w.id}: route ${w.route}, ${w.path || '(root)'} ${w.kind}, until ${w.expiresAt}, by ${w.author}: "${w.reason}"`;
}

export async function run(args: string[], opts: Record<string, any>): Promise<number> {
  const [action, id] = args;
  if (!['add', 'list', 'remove'].includes(action ?? '')) throw usageError('action', `"${action ?? ''}" must be add, list or remove`);
  if (action !== 'remove' && id !== undefined) throw usageError('id', `only \`waive remove\` takes an id (got "${id}")`);
  const by: string = opts.by ?? defaultBy();
  // Check the input before touching the store.
  if (action === 'add') buildWaiver({ route: opts.route, path: opts.path, kind: opts.kind, reason: opts.reason, author: by, expires: opts.expires });
  if (action === 'remove' && !id) throw usageError('id', 'is required: cutover waive remove <id> (ids from `cutover waive list`)');
  const backend = await backendFor(opts);
  const p = painter();
  try {
    if (action === 'add') {
      const w = await backend.add({ route: opts.route, path: opts.path, kind: opts.kind, reason: opts.reason, author: by, expires: opts.expires });
      if (opts.json) printJson({ action: 'add', waiver: w });
      else process.stdout.write(`waiver added in ${backend.where}\n  ${describe(w)}\n`);
      return 0;
    }
    if (action === 'remove') {
      const w = await backend.remove(id!, by, opts.reason);
      if (opts.json) printJson({ action: 'remove', waiver: w });
      else process.stdout.write(`waiver removed from ${backend.where}\n  ${describe(w)}\n`);
      return 0;
    }
    const waivers = await backend.list();
    const now = Date.now();
    if (opts.json) {
      printJson({ waivers: waivers.map((w) => ({ ...w, active: isActive(w, now) })) });
      return 0;
    }
    if (waivers.length === 0) {
      process.stdout.write(`no waivers in ${backend.where}\n`);
      return 0;
    }
    const rows = waivers.map((w) => [w.id, w.route, w.path || '(root)', w.kind, isActive(w, now) ? w.expiresAt : p.dim(`${w.expiresAt} (expired)`), w.author, w.reason]);
    process.stdout.write(table(['id', 'route', 'path', 'kind', 'expires', 'by', 'reason'], rows, p) + '\n');
    return 0;
  } finally {
    await backend.close();
  }
}
