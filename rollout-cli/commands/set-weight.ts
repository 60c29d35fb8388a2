/** `cutover set-weight <route>|--all <0..100> [--max-step N --force]`: canary weight for one route or all. */
import { parseWeight } from '../../shared/state/transitions.js';
import { usageError } from '../errors.js';
import { asCliError, runChangeVerb } from '../target.js';

export async function run(args: string[], opts: Record<string, any>): Promise<number> {
  let route: string | undefined;
  let weightText: string | undefined;
  if (opts.all) {
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
  return runChangeVerb('set-weight', { action: 'set-weight', route, all: Boolean(opts.all), weight, maxStep, force: Boolean(opts.force) }, opts);
}
