/** `cutover promote [--full]`: skip the current hold or manual pause; --full sends every route to V2. */
import { runChangeVerb } from '../target.js';

export async function run(_args: string[], opts: Record<string, any>): Promise<number> {
  return runChangeVerb('promote', { action: 'promote', full: Boolean(opts.full) }, opts);
}
