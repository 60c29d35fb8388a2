/**
 * Bounds on the free text a change carries into the history (reason, by, ticket): the history
 * is kept, shipped to every replica and shown in reports, so one change must not grow it by
 * megabytes. Checked before anything is written, for the CLI and the admin API alike.
 */
import { stateInput } from './errors.js';

export const MAX_REASON_BYTES = 4096;
export const MAX_BY_BYTES = 256;
export const MAX_TICKET_BYTES = 256;

const LIMITS: ReadonlyArray<readonly ['reason' | 'by' | 'ticket', number]> = [
  ['reason', MAX_REASON_BYTES],
  ['by', MAX_BY_BYTES],
  ['ticket', MAX_TICKET_BYTES],
];

/** Throws an input error naming the first field over its bound. */
export function checkChangeMeta(meta: { reason?: string; by?: string; ticket?: string }): void {
  for (const [field, max] of LIMITS) {
    const v = meta[field];
    if (typeof v !== 'string') continue;
    const bytes = Buffer.byteLength(v, 'utf8');
    if (bytes > max) throw stateInput(field, `must be at most ${max} bytes (got ${bytes}); put long text in a ticket and link it`);
  }
}
