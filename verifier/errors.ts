/** The verifier's errors, each with a stable code. */
import { CutoverError, InputError } from '../shared/errors.js';

export const VERIFY_ERR_INPUT = 'CUTOVER_ERR_VERIFY_INPUT';
export const VERIFY_ERR_WAIVER = 'CUTOVER_ERR_WAIVER';
export const VERIFY_ERR_WAIVER_NOT_FOUND = 'CUTOVER_ERR_WAIVER_NOT_FOUND';
export const VERIFY_ERR_WAIVER_CONFLICT = 'CUTOVER_ERR_WAIVER_CONFLICT';
export const VERIFY_ERR_REPLAY = 'CUTOVER_ERR_REPLAY';
export const VERIFY_ERR_CLOSED = 'CUTOVER_ERR_VERIFIER_CLOSED';

/** A bad line in a pairs or requests file: names the file, the line and the field. */
export function badLine(file: string, line: number, field: string, reason: string, cause?: unknown): InputError {
  return new InputError(VERIFY_ERR_INPUT, `${file}:${line}${field ? ` ${field}` : ''}`, reason, { cause });
}

export function waiverInputError(field: string, reason: string): InputError {
  return new InputError(VERIFY_ERR_WAIVER, field, reason);
}

export function waiverNotFound(id: string): CutoverError {
  return new CutoverError(VERIFY_ERR_WAIVER_NOT_FOUND, `no waiver with id "${id}" (run \`cutover waive list\` to see the ids)`, {
    exitCode: 2,
    status: 404,
  });
}

export function waiverConflict(attempts: number, cause?: unknown): CutoverError {
  return new CutoverError(
    VERIFY_ERR_WAIVER_CONFLICT,
    `the rollout state kept changing under the waiver update (${attempts} attempts); try again`,
    { exitCode: 1, status: 409, cause },
  );
}

export function replayError(reason: string, cause?: unknown): CutoverError {
  return new CutoverError(VERIFY_ERR_REPLAY, reason, { exitCode: 1, cause });
}
