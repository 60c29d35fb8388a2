/** `cutover resume [--reason TEXT]`: un-pause; after an abort, clears it (the reason is then required). */
import { runChangeVerb } from '../target.js';

export async function run(_args: string[], opts: Record<string, any>): Promise<number> {
  return runChangeVerb('resume', { action: 'resume' }, opts);
}
