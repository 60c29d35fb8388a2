/**
 * `cutover mode <route> <legacy|mirror|canary|v2> [--max-step N --force]`, or
 * `cutover mode --upstream SERVICE <mode>` for the routes whose V2 side is SERVICE (one change). Like `set-weight`,
 * a jump of V2's share by more than --max-step points (`v2` from 0 % is 100 points) needs
 * --force; `mirror` on a route that takes writes warns that nothing will be mirrored unless the
 * route opts in (`mirrorUnsafe: true` in cutover.yaml).
 */
import { DEFAULT_MAX_STEP, effectiveWeight, parseMode, parseWeight } from '../../shared/state/transitions.js';
import type { RolloutState } from '../../shared/state/types.js';
import type { CutoverConfig } from '../../shared/config.js';
import { usageError } from '../errors.js';
import { routesOfUpstream } from '../../shared/upstream-routes.js';
import { UNSAFE_METHODS } from '../route-sets.js';
import { asCliError, loadOptionalConfig, runChangeVerb } from '../target.js';

export async function run(args: string[], opts: Record<string, any>): Promise<number> {
  const upstream: string | undefined = opts.upstream;
  if (upstream !== undefined && args.length > 1) throw usageError('route', `give a route or --upstream, not both (got "${args[0]}" with --upstream ${upstream}): mode --upstream <service> <mode>`);
  const [route, mode] = upstream !== undefined ? [undefined, args[0]] : args;
  if (upstream === undefined && !route) throw usageError('route', 'is required: mode <route> <legacy|mirror|canary|v2>');
  let maxStep: number;
  try {
    parseMode(mode);
    maxStep = opts.maxStep === undefined ? DEFAULT_MAX_STEP : parseWeight(opts.maxStep, '--max-step');
  } catch (err) {
    throw asCliError(err);
  }
  const config = await loadOptionalConfig(opts.config);
  const force = Boolean(opts.force);
  if (upstream !== undefined) {
    // The guards run on each of the service's routes, resolved like the change will be.
    return runChangeVerb('mode', { action: 'mode', upstream, mode: mode! }, opts, (state, sides) => {
      let routes: string[];
      try {
        routes = routesOfUpstream(sides ?? {}, upstream);
      } catch (err) {
        throw asCliError(err);
      }
      return routes.flatMap((r) => modeGuards(state, config, r, mode!, maxStep, force));
    });
  }
  return runChangeVerb('mode', { action: 'mode', route: route!, mode: mode! }, opts, (state) => modeGuards(state, config, route!, mode!, maxStep, force));
}

/** Refuses a jump larger than maxStep without force (exit 2, nothing changes); returns warnings. */
export function modeGuards(state: RolloutState | null, config: Readonly<CutoverConfig> | undefined, route: string, mode: string, maxStep: number, force: boolean): string[] {
  const cur = state?.routes[route];
  if (cur && mode === 'v2' && !force) {
    const from = effectiveWeight(cur);
    const jump = Math.round((100 - from) * 100) / 100;
    if (jump > maxStep) {
      throw usageError(
        'mode',
        `v2 sends all of ${route} to V2: from ${from} % that is a jump of ${jump} points, more than --max-step ${maxStep}; ramp with \`cutover set-weight ${route} N\` or add --force`,
      );
    }
  }
  const warnings: string[] = [];
  const r = config?.routes.find((x) => x.name === route);
  if (mode === 'mirror' && r && UNSAFE_METHODS.includes(r.match.method) && !r.mirrorUnsafe) {
    warnings.push(
      `${route} (${r.match.method} ${r.match.path}) takes writes, which are never mirrored: in mirror mode V2 gets no copy and nothing is compared. To mirror it on purpose set \`mirrorUnsafe: true\` on the route in cutover.yaml (V2 then receives real writes: only against a V2 whose writes go nowhere); to try V2 on it, canary it with \`cutover set-weight ${route} N\``,
    );
  }
  return warnings;
}
