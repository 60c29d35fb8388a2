/** `cutover mode <route> <legacy|mirror|canary|v2>` */
import { parseMode } from '../../shared/state/transitions.js';
import { usageError } from '../errors.js';
import { runChangeVerb } from '../target.js';

export async function run(args: string[], opts: Record<string, any>): Promise<number> {
  const [route, mode] = args;
  if (!route) throw usageError('route', 'is required: mode <route> <legacy|mirror|canary|v2>');
  parseMode(mode);
  return runChangeVerb('mode', { action: 'mode', route, mode: mode! }, opts);
}
