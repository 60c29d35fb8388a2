/**
 * `cutover promote [--full [--upstream SERVICE]]`: skip the current hold or manual pause;
 * --full sends every route (with --upstream: the routes whose V2 side is SERVICE) to V2.
 */
import { usageError } from '../errors.js';
import { runChangeVerb } from '../target.js';

export async function run(_args: string[], opts: Record<string, any>): Promise<number> {
  if (opts.upstream !== undefined && !opts.full) {
    throw usageError('--upstream', `goes with --full (promote --full --upstream ${opts.upstream} sends that service's routes to V2); without --full promote skips the running plan's hold, which is not per service`);
  }
  return runChangeVerb('promote', { action: 'promote', full: Boolean(opts.full), ...(opts.upstream !== undefined ? { upstream: String(opts.upstream) } : {}) }, opts);
}
