/**
 * Errors of the plan runner (`cutover run`), each with a stable code. Bad plans are input
 * errors (exit 2); a refused lease, an aborted rollout or a rollback end the run with exit 1.
 */
import { CutoverError, InputError } from '../../shared/errors.js';
import { formatDuration } from './duration.js';

export const PLAN_ERR = 'CUTOVER_ERR_PLAN';
export const RUN_ERR_LEASE = 'CUTOVER_ERR_RUN_LEASE';
export const RUN_ERR_ABORTED = 'CUTOVER_ERR_RUN_ABORTED';
export const RUN_ERR_STATS = 'CUTOVER_ERR_RUN_STATS';
export const RUN_ERR_NO_STATE = 'CUTOVER_ERR_RUN_NO_STATE';
export const RUN_ERR_METRICS_SOURCE = 'CUTOVER_ERR_RUN_METRICS_SOURCE';
export const RUN_ERR_WEBHOOK = 'CUTOVER_ERR_RUN_WEBHOOK';

export function planError(field: string, reason: string, cause?: unknown): InputError {
  return new InputError(PLAN_ERR, field, reason, { cause });
}

export function leaseRefused(holder: string, ttlMs?: number): CutoverError {
  const within = ttlMs ? ` within ${formatDuration(ttlMs)} (leaseTtl)` : '';
  return new CutoverError(
    RUN_ERR_LEASE,
    `another \`cutover run\` holds the rollout lease: ${holder}. Wait for it to finish, or stop it; a dead driver's lease expires by itself${within}, and a new run then resumes at the recorded step`,
    { exitCode: 1 },
  );
}

export function rolloutAborted(reason: string | undefined): CutoverError {
  return new CutoverError(
    RUN_ERR_ABORTED,
    `the rollout is aborted${reason ? ` (${reason})` : ''}; nothing re-ramps until someone runs \`cutover resume --reason TEXT\``,
    { exitCode: 1 },
  );
}

export function noState(url: string): CutoverError {
  return new CutoverError(
    RUN_ERR_NO_STATE,
    `the state store ${url} has no rollout state yet; start a proxy on it first (it writes the initial routes) or pass the right --state`,
    { exitCode: 2 },
  );
}

export function statsUnavailable(detail: string, cause?: unknown): CutoverError {
  return new CutoverError(RUN_ERR_STATS, `cannot read stats from the proxies: ${detail}`, { exitCode: 1, cause });
}

export function metricsSourceNotAvailable(kind: string): CutoverError {
  return new CutoverError(
    RUN_ERR_METRICS_SOURCE,
    `analysis.metricsSource: ${kind} is not yet available (observability issue 8); use metricsSource: proxies (the default)`,
    { exitCode: 2 },
  );
}
