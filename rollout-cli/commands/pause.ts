/** `cutover pause`: hold the rollout where it is (a running plan stops stepping). */
import { runChangeVerb } from '../target.js';

export async function run(_args: string[], opts: Record<string, any>): Promise<number> {
  return runChangeVerb('pause', { action: 'pause' }, opts);
}
