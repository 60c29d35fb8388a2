/**
 * What a newly applied store state means for the break-glass override a replica holds: the
 * decision, apart from its effects (replica-agent.ts writes the local file and clears memory).
 *
 * - `synced`: the store now holds this abort (aborted, with the override's reason): remember
 *   where, so a later resume can be recognised.
 * - `clear`: the store holds it and a later version of the same epoch is not aborted: a resume
 *   was recorded after it, and the override must stop holding routes at legacy.
 * - `resync`: the store that held it is a new line of versions (another epoch: restored empty,
 *   reseeded) without it: it must be written again.
 * - `keep`: nothing changed for the override.
 */
import { epochOf } from './versioning.js';
import type { RolloutState } from './types.js';

export type OverrideStep = 'keep' | 'synced' | 'clear' | 'resync';

export function overrideStep(o: { reason: string; synced?: { epoch: string; version: number } }, state: RolloutState): OverrideStep {
  if (!o.synced) return state.aborted && state.abortReason === o.reason ? 'synced' : 'keep';
  if (state.aborted) return 'keep';
  if (epochOf(state) !== o.synced.epoch) return 'resync';
  return state.version > o.synced.version ? 'clear' : 'keep';
}
