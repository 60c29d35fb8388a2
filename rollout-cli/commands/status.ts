/**
 * `cutover status [--watch] [--json]`: routes, modes, weights, paused/aborted with the reason,
 * and every replica with its applied version and last heartbeat (stale and lagging ones flagged).
 * `--watch` redraws in place on a TTY; otherwise it prints each change as a line (NDJSON with --json).
 */
import { effectiveWeight } from '../../shared/state/transitions.js';
import { formatAge, formatHistoryLine, painter, printJson, printJsonLine, println, table, type Painter } from '../output.js';
import { resolveTarget, type StatusView, type Target } from '../target.js';
import { describePlanStatus, planStatusLines, type PlanStatus } from '../plan-status.js';
import type { HistoryEntry } from '../../shared/state/types.js';
import { hasNamedServices } from '../../shared/upstream-routes.js';

function lagging(view: StatusView, r: StatusView['replicas'][number]): boolean {
  const s = view.state;
  return !!s && !r.stale && ((r.appliedEpoch ?? '') !== (s.epoch ?? '') || r.appliedVersion < s.version);
}

export function renderStatus(view: StatusView, p: Painter = painter(), plan?: PlanStatus): string {
  const lines: string[] = [];
  const s = view.state;
  if (!s) {
    lines.push(`${p.bold('cutover status')}  ${view.source}`);
    lines.push('no rollout state yet: a proxy seeds it from cutover.yaml on first start (or the first change from a folder with cutover.yaml does)');
  } else {
    lines.push(`${p.bold('cutover status')}  ${view.source}  version ${s.version}, updated ${s.updatedAt} by ${s.updatedBy}`);
    const rollout = s.aborted
      ? p.red(`ABORTED${s.abortReason ? ` ("${s.abortReason}")` : ''}`) + ' — nothing re-ramps until `cutover resume --reason`'
      : s.paused
        ? p.yellow('paused')
        : p.green('running');
    lines.push(`rollout: ${rollout}`);
    if (s.plan) lines.push(...planLines(s, plan));
    lines.push('');
    // A config with one legacy and one V2 (every route legacy -> v2) reads as it always did;
    // with named services each route shows its two sides.
    const sides = hasNamedServices(view.sides) ? view.sides : undefined;
    const sideOf = (name: string) => (sides?.[name] ? [`${sides[name]!.legacy} -> ${sides[name]!.v2}`] : sides ? ['?'] : []);
    const rows = Object.entries(s.routes).map(([name, r]) => {
      const mode = r.mode === 'v2' ? p.green(r.mode) : r.mode === 'canary' ? p.yellow(r.mode) : r.mode;
      return [name, ...sideOf(name), mode, r.mode === 'canary' ? String(r.weight) : '-', `${effectiveWeight(r)} %`];
    });
    for (const [name, by] of Object.entries(view.notInState ?? {})) {
      rows.push([name, ...sideOf(name), p.yellow('NOT IN STATE'), '-', `0 % (served by legacy on ${by.join(', ')} until a replica adds it)`]);
    }
    lines.push(table(['ROUTE', ...(sides ? ['SIDES (LEGACY -> V2)'] : []), 'MODE', 'WEIGHT', 'V2 SERVES'], rows, p));
  }
  if (!s) for (const [name, by] of Object.entries(view.notInState ?? {})) lines.push(`route ${name}: served by legacy on ${by.join(', ')} (not in any state)`);
  for (const w of view.warnings ?? []) lines.push(p.yellow(`warning: ${w}`));
  const overrides = view.replicas.filter((r) => !r.stale && r.override);
  for (const r of overrides) {
    const o = r.override!;
    lines.push(
      `${p.red('BREAK-GLASS')} ${r.id} holds a local abort${overrideScope(o)} ("${o.reason}" by ${o.by} at ${o.at})${o.synced ? ', also in the store' : p.red(', NOT in the store yet')}; only \`cutover resume\` clears it`,
    );
  }
  for (const r of view.replicas.filter((x) => !x.stale && x.stateInvalid)) lines.push(p.red(`${r.id} rejects the stored state (${r.stateInvalid}) and routes on its last good one`));
  lines.push('');
  if (view.server) {
    const sv = view.server;
    if ('error' in sv) lines.push(`redis: ${p.red(`cannot name the server (${sv.error})`)}`);
    else if (sv.kind === 'sentinel') lines.push(`redis: master ${sv.address} of "${sv.name}" (found through Sentinel; role ${sv.role})`);
    else lines.push(`redis: ${sv.address} (role ${sv.role})`);
  }
  if (view.proxy) {
    lines.push(
      `through proxy ${view.proxy.replicaId}: applied version ${view.proxy.appliedVersion}, state store ${view.proxy.storeUp ? p.green('up') : p.red('DOWN (degraded: routing on the last applied state)')}`,
    );
    const o = view.proxy.breakGlass;
    if (o) lines.push(`${p.red('BREAK-GLASS')} this proxy holds a local abort${overrideScope(o)} ("${o.reason}" by ${o.by} at ${o.at})${o.synced ? ', also in the store' : p.red(', NOT in the store yet')}`);
    if (view.proxy.stateInvalid) lines.push(p.red(`this proxy rejects the stored state (${view.proxy.stateInvalid}) and routes on its last good one`));
  }
  if (view.replicas.length === 0) {
    lines.push('replicas: none registered');
  } else {
    const now = Date.now();
    const rows = view.replicas.map((r) => {
      const flag = r.stale ? p.red(`STALE (no heartbeat for over ${view.staleAfterMs / 1000} s)`) : lagging(view, r) ? p.yellow('lagging') : p.green('live');
      return [r.id, r.host, String(r.pid), String(r.appliedVersion), formatAge(now - Date.parse(r.lastSeen)), flag];
    });
    lines.push(table(['REPLICA', 'HOST', 'PID', 'APPLIED', 'LAST HEARTBEAT', ''], rows, p));
  }
  return lines.join('\n');
}

/** ` of statements-v2 (routes statement, statement-pdf)`, ` of route balance`, or nothing (every route). */
function overrideScope(o: { routes?: string[] | null; upstreams?: string[] | null }): string {
  if (!o.routes) return '';
  const list = `route${o.routes.length === 1 ? '' : 's'} ${o.routes.join(', ')}`;
  return o.upstreams?.length ? ` of ${o.upstreams.join(', ')} (${list})` : ` of ${list}`;
}

// ---- the plan (issue 17): step N of M and why it holds or pauses, from the state and the history

/** `plan.step` in the state is the step's index; everything users read says "step N of M". */
function planLines(s: NonNullable<StatusView['state']>, plan: PlanStatus | undefined): string[] {
  return planStatusLines(plan ?? describePlanStatus(s, [])!);
}

/** The plan's status, with the history entries that say why (empty history when it cannot be read). */
async function planStatus(target: Target, view: StatusView): Promise<PlanStatus | undefined> {
  if (!view.state?.plan) return undefined;
  const history: HistoryEntry[] = await target.history(500).catch(() => []);
  return describePlanStatus(view.state, history);
}

// ----

function statusDocument(view: StatusView, plan?: PlanStatus): Record<string, unknown> {
  return {
    command: 'status',
    source: view.source,
    state: view.state,
    ...(plan ? { plan } : {}),
    replicas: view.replicas.map((r) => ({ ...r, lagging: lagging(view, r) })),
    staleAfterMs: view.staleAfterMs,
    notInState: view.notInState ?? {},
    ...(view.sides ? { sides: view.sides } : {}),
    warnings: view.warnings ?? [],
    ...(view.proxy ? { proxy: view.proxy } : {}),
    ...(view.server ? { server: view.server } : {}),
  };
}

export async function run(_args: string[], opts: Record<string, any>): Promise<number> {
  const target = await resolveTarget(opts);
  try {
    if (!opts.watch) {
      const view = await target.status();
      const plan = await planStatus(target, view);
      if (opts.json) printJson(statusDocument(view, plan));
      else println(renderStatus(view, painter(), plan));
      return 0;
    }
    return await watchStatus(target, Boolean(opts.json));
  } finally {
    await target.close();
  }
}

/** Runs until SIGINT/SIGTERM. */
async function watchStatus(target: Target, json: boolean): Promise<number> {
  const tty = Boolean(process.stdout.isTTY) && !json;
  const p = painter();
  let view = await target.status();
  let lastVersion = view.state?.version ?? 0;
  let lastEpoch = view.state?.epoch;
  const replicaFlags = new Map(view.replicas.map((r) => [r.id, r.stale]));

  const draw = () => process.stdout.write(`\x1b[H\x1b[2J${renderStatus(view, p)}\n${p.dim('watching; Ctrl-C to stop')}\n`);
  if (json) printJsonLine(statusDocument(view));
  else if (tty) draw();
  else println(renderStatus(view, p));

  let refreshing = false;
  let again = false;
  const refresh = async (): Promise<void> => {
    if (refreshing) {
      again = true;
      return;
    }
    refreshing = true;
    again = false;
    try {
      const next = await target.status();
      const changed = next.state && (next.state.version !== lastVersion || next.state.epoch !== lastEpoch);
      if (changed && !json && !tty) {
        const sameEpoch = next.state!.epoch === lastEpoch;
        const entries = await target.history(50).catch(() => []);
        const fresh = entries.filter((e) => !sameEpoch || e.version > lastVersion);
        if (fresh.length) for (const e of fresh) println(formatHistoryLine(e, p));
        else println(`${next.state!.updatedAt}  v${next.state!.version}  by ${next.state!.updatedBy}`);
      }
      if (!json && !tty) {
        for (const r of next.replicas) {
          const was = replicaFlags.get(r.id);
          if (was === undefined) {
            const flag = r.stale ? p.red(`, STALE (no heartbeat for over ${next.staleAfterMs / 1000} s)`) : '';
            println(`replica ${r.id} (pid ${r.pid} on ${r.host}) joined, applied version ${r.appliedVersion}${flag}`);
          }
          else if (was !== r.stale) println(r.stale ? p.red(`replica ${r.id} is stale (no heartbeat for over ${next.staleAfterMs / 1000} s)`) : `replica ${r.id} is live again`);
          replicaFlags.set(r.id, r.stale);
        }
      }
      if (json && (changed || next.replicas.some((r) => replicaFlags.get(r.id) !== r.stale))) {
        printJsonLine(statusDocument(next));
        for (const r of next.replicas) replicaFlags.set(r.id, r.stale);
      }
      if (next.state) {
        lastVersion = next.state.version;
        lastEpoch = next.state.epoch;
      }
      view = next;
      if (tty) draw();
    } catch (err) {
      if (tty) process.stdout.write(`${p.red(`cannot read the state: ${(err as Error).message}`)}\n`);
      else println(`cannot read the state: ${(err as Error).message}`, process.stderr);
    } finally {
      refreshing = false;
    }
    if (again) return refresh();
  };

  const unwatch = target.watch(() => void refresh());
  const timer = setInterval(() => void refresh(), 1000);
  await new Promise<void>((res) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      res();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  clearInterval(timer);
  unwatch();
  return 0;
}
