/**
 * `cutover set-weight <route>|--all|--upstream SERVICE <0..100> [--max-step N --force] [--include-unsafe]`:
 * canary weight for one route, for a service's routes (one state change), or for the config's named routes. `--all` leaves out the catch-all
 * default route and write-only routes (POST/PUT/PATCH/DELETE that are not mirrored) unless
 * `--include-unsafe`; it says which it left out and why (rollout-cli/route-sets.ts).
 */
import { parseWeight, setWeight } from '../../shared/state/transitions.js';
import type { RolloutState } from '../../shared/state/types.js';
import { usageError } from '../errors.js';
import { chooseNamedRoutes, describeChoice, type RouteChoice } from '../route-sets.js';
import { asCliError, defaultBy, loadOptionalConfig, resolveTarget, runChangeVerb } from '../target.js';

export async function run(args: string[], opts: Record<string, any>): Promise<number> {
  let route: string | undefined;
  let weightText: string | undefined;
  const upstream: string | undefined = opts.upstream;
  if (upstream !== undefined) {
    if (opts.all) throw usageError('--upstream', 'give --all or --upstream, not both');
    if (args.length > 1) throw usageError('route', `give a route or --upstream, not both (got "${args[0]}" with --upstream ${upstream}): set-weight --upstream <service> <0..100>`);
    weightText = args[0];
  } else if (opts.all) {
    if (args.length > 1) throw usageError('route', `give a route name or --all, not both (got "${args[0]}" with --all)`);
    weightText = args[0];
  } else {
    [route, weightText] = args;
    if (route === undefined) throw usageError('route', 'is required: set-weight <route> <0..100> (or --all <0..100>)');
  }
  if (weightText === undefined) throw usageError('weight', 'is required: a number between 0 and 100 with at most two decimals');
  let weight: number;
  let maxStep: number | undefined;
  try {
    weight = parseWeight(weightText, 'weight');
    maxStep = opts.maxStep === undefined ? undefined : parseWeight(opts.maxStep, '--max-step');
  } catch (err) {
    throw asCliError(err);
  }
  if (upstream !== undefined) {
    if (opts.includeUnsafe) throw usageError('--include-unsafe', "goes with --all (a service's routes are always set)");
    return runChangeVerb('set-weight', { action: 'set-weight', upstream, weight, maxStep, force: Boolean(opts.force) }, opts);
  }
  if (!opts.all) {
    if (opts.includeUnsafe) throw usageError('--include-unsafe', 'goes with --all (a route given by name is always set)');
    return runChangeVerb('set-weight', { action: 'set-weight', route, weight, maxStep, force: Boolean(opts.force) }, opts);
  }
  return setAll(weight, maxStep, opts);
}

/** The routes `--all` means, from the state's routes and cutover.yaml. */
export function routesForAll(state: RolloutState, config: Parameters<typeof chooseNamedRoutes>[1], includeUnsafe: boolean): RouteChoice {
  if (!config && !includeUnsafe) {
    throw usageError(
      '--all',
      'without cutover.yaml the routes\' methods are unknown, so --all cannot leave out the routes that take writes; pass --config FILE, or --include-unsafe to set every route but the default one',
    );
  }
  return chooseNamedRoutes(Object.keys(state.routes), config, { includeUnsafe, unsafeHint: 'add --include-unsafe to set it too, or set it by name' });
}

/**
 * Every named route: each raise is checked first on the current state (--max-step, an abort),
 * so bad input changes nothing; then one change for all of them (one version, one history entry).
 */
async function setAll(weight: number, maxStep: number | undefined, opts: Record<string, any>): Promise<number> {
  const { painter, printJson, println, formatChanges } = await import('../output.js');
  const config = await loadOptionalConfig(opts.config);
  const target = await resolveTarget(opts);
  try {
    const state = (await target.status()).state;
    if (!state) throw usageError('--all', `${target.where} holds no rollout state yet: start a proxy on it, or set a route by name first`);
    const choice = routesForAll(state, config, Boolean(opts.includeUnsafe));
    if (choice.routes.length === 0) throw usageError('--all', `no named route to set (${describeChoice(choice)})`);

    // One change for every route chosen: one version, one history entry, never half the routes.
    const by = opts.by ?? defaultBy();
    const out = await target.change({ action: 'set-weight', routes: choice.routes, weight, maxStep, force: Boolean(opts.force) }, { by, reason: opts.reason, ticket: opts.ticket });
    const changes = out.changes;
    const last = out.state;
    if (opts.json) {
      printJson({ command: 'set-weight', ok: true, all: true, routes: choice.routes, left: choice.left, unchanged: changes.length === 0, version: last.version, changes, state: last });
    } else {
      const p = painter();
      println(changes.length ? `set-weight --all: ${formatChanges(changes)} ${p.dim(`(version ${last.version}, ${target.where})`)}` : `set-weight --all: nothing to change (version ${last.version} stays)`);
      for (const l of choice.left) println(p.dim(`  left alone: ${l.route}: ${l.why}`));
      if (choice.note) println(p.dim(`  ${choice.note}`));
    }
    return 0;
  } catch (err) {
    throw asCliError(err);
  } finally {
    await target.close();
  }
}
