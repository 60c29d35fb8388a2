/**
 * `cutover abort [--route R | --upstream SERVICE] --reason TEXT [--timeout ms] [--admin URL]...`:
 * the on-call button. Sends every route (or R, or the routes whose V2 side is SERVICE, in one
 * state change) to legacy and returns when every live replica has applied it, saying
 * how long that took; after the timeout it names the replicas that have not and exits 1.
 *
 * Break-glass: when the store cannot take the abort (unreachable, corrupt, full disk, read-only)
 * or has not taken it within BREAK_GLASS_AFTER_MS, every replica admin plane it can find takes
 * the abort locally (rollout-cli/break-glass.ts). It prints which replicas applied it and which
 * could not be reached; exit 0 only when every replica it knows of applied it.
 */
import { withTimeout } from '../../shared/with-timeout.js';
import { InputError, isCutoverError } from '../../shared/errors.js';
import { STORE_SICK_CODES } from '../../shared/state/errors.js';
import type { ReplicaInfo } from '../../shared/state/types.js';
import { configAdmins, fanOutAbort, type BreakGlassReplica } from '../break-glass.js';
import { usageError } from '../errors.js';
import { routeSidesOf, routesOfUpstream } from '../../shared/upstream-routes.js';
import { formatAge, painter, printJson, println } from '../output.js';
import { recalledAdmins } from '../replica-cache.js';
import { adminToken, adminUrls, asCliError, CLI_ERR_ADMIN, defaultBy, loadOptionalConfig, resolveTarget, type BreakGlassAnswer } from '../target.js';
import type { AbortResult } from '../../shared/state/acks.js';

/** A store that has not taken the abort by then is bypassed (the replicas take it locally). */
export const BREAK_GLASS_AFTER_MS = 300;

function describe(r: ReplicaInfo): string {
  return `${r.id} (pid ${r.pid} on ${r.host}${r.adminUrl ? `, ${r.adminUrl}` : ''}; applied version ${r.appliedVersion}, last heartbeat ${formatAge(Date.now() - Date.parse(r.lastSeen))})`;
}

type Primary = { ok: true; result: AbortResult & BreakGlassAnswer } | { ok: false; error: unknown };

export async function run(_args: string[], opts: Record<string, any>): Promise<number> {
  const reason = typeof opts.reason === 'string' ? opts.reason.trim() : '';
  if (!reason) throw usageError('--reason', 'is required: say why you abort (it goes into the history)');
  const timeoutText = String(opts.timeout ?? '2000');
  if (!/^\d+$/.test(timeoutText) || Number(timeoutText) < 1 || Number(timeoutText) > 600_000) {
    throw usageError('--timeout', `must be a whole number of milliseconds between 1 and 600000 (got ${timeoutText})`);
  }
  const staleText = String(opts.staleAfter ?? '5000');
  if (!/^\d+$/.test(staleText) || Number(staleText) < 1) throw usageError('--stale-after', `must be a whole number of milliseconds (got ${staleText})`);
  const admins = adminUrls(opts);
  const config = await loadOptionalConfig(opts.config);
  const token = adminToken(opts, config);
  const route: string | undefined = opts.route;
  const upstream: string | undefined = opts.upstream;
  if (route !== undefined && upstream !== undefined) throw usageError('--upstream', `give --route or --upstream, not both (got --route ${route} and --upstream ${upstream})`);
  // With cutover.yaml at hand a bad service name is refused here, before anything is sent.
  if (upstream !== undefined && config) {
    try {
      routesOfUpstream(routeSidesOf(config), upstream);
    } catch (err) {
      throw asCliError(err);
    }
  }
  const target = await resolveTarget(opts, { manyAdmins: true, config });
  const by = opts.by ?? defaultBy();
  const timeoutMs = Number(timeoutText);
  const scope: Scope = { route, upstream };
  try {
    // The store path, watched: a store that fails, or has not written the abort soon, is bypassed.
    let written = false;
    let onSlow: () => void = () => undefined;
    const slow = new Promise<void>((res) => (onSlow = res));
    // Through an admin plane the abort is answered once every replica applied it, or once that
    // plane gave up on a sick store (seconds): the other replicas must not wait for that.
    const timer = setTimeout(() => onSlow(), BREAK_GLASS_AFTER_MS);
    const primaryP: Promise<Primary> = target
      .abort({
        reason,
        route,
        ...(upstream !== undefined ? { upstream } : {}),
        by,
        timeoutMs,
        staleMs: Number(staleText),
        onWritten: () => {
          written = true;
          clearTimeout(timer);
        },
      })
      .then(
        (result) => ({ ok: true as const, result }),
        (error: unknown) => ({ ok: false as const, error }),
      );
    const first = await Promise.race([primaryP, slow.then(() => undefined)]);
    clearTimeout(timer);
    const needsBreakGlass = (p: Primary | undefined) =>
      p === undefined ||
      (!p.ok && isCutoverError(p.error) && (STORE_SICK_CODES.has(p.error.code) || p.error.code === CLI_ERR_ADMIN)) ||
      (p.ok && p.result.breakGlass !== undefined && !p.result.ok && p.result.storeError !== undefined);
    if (!needsBreakGlass(first) || (first === undefined && written)) {
      const p = first ?? (await primaryP);
      if (!p.ok) throw p.error;
      return report(p.result, opts, scope);
    }

    // Break-glass: every replica admin plane we can find takes the abort locally.
    // The addresses known without the store go first; the registry (through a sick store, or
    // an admin plane waiting on one) is asked at the same time and its extra replicas follow.
    const fromConfig = await configAdmins(config);
    const fromAnswer = first?.ok ? (first.result.knownReplicas ?? []) : [];
    const storeUrl = opts.state ?? config?.state;
    const recalled = storeUrl ? recalledAdmins(storeUrl) : [];
    const known = [...new Set([...admins, ...fromConfig.urls, ...fromAnswer, ...recalled])];
    const fromStoreP = withTimeout(target.knownAdmins(), REGISTRY_WAIT_MS).catch(() => [] as string[]);
    const [firstWave, fromStore] = await Promise.all([fanOutAbort(known, token, { reason, route, upstream, by }), fromStoreP]);
    const more = fromStore.filter((u) => !known.includes(u));
    const replicas = more.length ? [...firstWave, ...(await fanOutAbort(more, token, { reason, route, upstream, by }))] : firstWave;
    // A store that was only slow goes on writing: once it holds the abort, its acknowledged
    // result is the answer (the replicas' local aborts are then already in the store).
    const late = first ?? (await primaryP);
    // Refused input (a bad --upstream, an unknown --route) answered late on a loaded machine:
    // every replica refused the local abort too, so nothing changed; say why, exit 2.
    if (!late.ok && late.error instanceof InputError) throw late.error;
    if (late.ok && !late.result.storeError) {
      const code = report(late.result, opts, scope);
      if (!opts.json) {
        const applied = dedupe(replicas).filter((r) => r.applied).length;
        println(painter().dim(`the store was slow (over ${BREAK_GLASS_AFTER_MS} ms), so ${applied} replica(s) also took the abort locally at once`));
      }
      return code;
    }
    return reportBreakGlass(replicas, { storeProblem: describeProblem(late), dnsErrors: fromConfig.errors }, opts, scope);
  } catch (err) {
    throw asCliError(err);
  } finally {
    await target.close();
  }
}

/** How long break-glass waits for the registry's list of admin planes (the store may be what is sick). */
const REGISTRY_WAIT_MS = 2000;


function describeProblem(p: Primary): string {
  if (p.ok) return p.result.storeError ? `${p.result.storeError.message} [${p.result.storeError.code}]` : 'the store did not take the abort';
  return isCutoverError(p.error) ? `${p.error.message} [${p.error.code}]` : String(p.error);
}

/** One line per replica (a replica reached by two addresses is one replica). */
function dedupe(replicas: BreakGlassReplica[]): BreakGlassReplica[] {
  const seen = new Map<string, BreakGlassReplica>();
  for (const r of replicas) {
    const key = r.replicaId ?? r.url;
    const prev = seen.get(key);
    if (!prev || (!prev.applied && r.applied)) seen.set(key, r);
  }
  return [...seen.values()];
}

function reportBreakGlass(
  all: BreakGlassReplica[],
  ctx: { storeProblem: string; dnsErrors: string[] },
  opts: Record<string, any>,
  scope: Scope,
): number {
  const replicas = dedupe(all);
  const applied = replicas.filter((r) => r.applied);
  const missed = replicas.filter((r) => !r.applied);
  const ok = replicas.length > 0 && missed.length === 0;
  const moved = applied.find((r) => r.routes)?.routes;
  if (opts.json) {
    printJson({
      command: 'abort',
      ok,
      breakGlass: true,
      ...(scope.upstream !== undefined ? { upstream: scope.upstream, routes: moved ?? [] } : {}),
      storeProblem: ctx.storeProblem,
      applied,
      notReached: missed,
      dnsErrors: ctx.dnsErrors,
    });
    return ok ? 0 : 1;
  }
  const p = painter();
  const what = describeScope(scope, moved);
  println(`${p.yellow('state store bypassed')}: ${ctx.storeProblem}`);
  if (replicas.length === 0) {
    println(`${p.red('abort NOT applied')}: no replica admin plane is known; pass each one with --admin URL (repeatable), or list them in cutover.yaml (breakGlass.admins or breakGlass.adminDns)`);
    for (const e of ctx.dnsErrors) println(`  ${e}`);
    return 1;
  }
  const head = ok ? p.green('abort applied (break-glass)') : p.red('abort NOT applied everywhere (break-glass)');
  println(`${head}: ${what} on ${applied.length} of ${replicas.length} replicas, each on its own; they write it to the store when it takes writes again`);
  const held = applied.find((r) => r.holds)?.holds;
  if (moved && held && held.length > moved.length) println(`  with the local aborts taken before, they hold ${held.join(', ')} at legacy`);
  for (const r of applied) {
    const disk = r.persisted ? 'kept on its disk' : p.yellow(`NOT kept on its disk (${r.persistError ?? 'no localState'}): a restart of it before the store takes the abort loses it`);
    println(`  applied  ${r.replicaId ?? '?'} (${r.url}), ${disk}`);
  }
  for (const r of missed) println(`  ${p.red('NOT reached')}  ${r.url}: ${r.error}`);
  for (const e of ctx.dnsErrors) println(`  ${p.red('not resolved')}  ${e}`);
  println('the store does not show the abort yet; `cutover status` shows each replica\'s override until it does; only `cutover resume` clears it');
  return ok ? 0 : 1;
}

/** What the abort names: a route, a service (with the routes it moved), or every route. */
type Scope = { route?: string; upstream?: string };

/** `service statements-v2 (routes statement, statement-pdf) to legacy`, `route balance to legacy`, `every route to legacy`. */
function describeScope(scope: Scope, routes: readonly string[] | undefined): string {
  if (scope.upstream !== undefined) {
    const list = routes?.length ? ` (route${routes.length === 1 ? '' : 's'} ${routes.join(', ')})` : '';
    return `service ${scope.upstream}${list} to legacy`;
  }
  return scope.route ? `route ${scope.route} to legacy` : 'every route to legacy';
}

function report(r: AbortResult & BreakGlassAnswer, opts: Record<string, any>, scope: Scope): number {
  if (opts.json) {
    printJson({
      command: 'abort',
      ok: r.ok,
      ...(scope.upstream !== undefined ? { upstream: scope.upstream, routes: r.routes ?? [] } : {}),
      version: r.state.version,
      elapsedMs: r.elapsedMs,
      appliedBy: r.appliedBy,
      notApplied: r.notApplied,
      stale: r.stale,
      state: r.state,
    });
  } else {
    const p = painter();
    const what = describeScope(scope, r.routes);
    const live = r.appliedBy.length + r.notApplied.length;
    if (live === 0) {
      println(`${p.yellow('abort')}: ${what} (version ${r.state.version}); no live replica is registered, so none had to apply it`);
    } else if (r.ok) {
      println(`${p.green('abort applied')}: ${what} (version ${r.state.version}); all ${live} live replicas applied it in ${r.elapsedMs} ms`);
    } else {
      println(`${p.red('abort NOT applied everywhere')}: ${what} (version ${r.state.version} is written); after ${r.elapsedMs} ms ${r.notApplied.length} of ${live} live replicas have not applied it:`);
      for (const n of r.notApplied) println(`  ${describe(n)}`);
      println(`check those replicas (they keep routing on their old state until they apply it), then run \`cutover status\``);
    }
    if (r.stale.length) println(p.dim(`not waited for (stale heartbeat): ${r.stale.map((s) => s.id).join(', ')}`));
  }
  return r.ok ? 0 : 1;
}
