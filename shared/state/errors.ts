/**
 * Errors of the rollout state: stores, transitions, replica agent. Stable codes; messages say
 * what to do next; the original error is kept as `cause`.
 */
import { CutoverError, InputError } from '../errors.js';

export const STATE_ERR_CONFLICT = 'CUTOVER_ERR_STATE_CONFLICT';
export const STATE_ERR_UNREACHABLE = 'CUTOVER_ERR_STATE_UNREACHABLE';
export const STATE_ERR_CORRUPT = 'CUTOVER_ERR_STATE_CORRUPT';
export const STATE_ERR_INPUT = 'CUTOVER_ERR_STATE_INPUT';
export const STATE_ERR_URL = 'CUTOVER_ERR_STATE_URL';
export const STATE_ERR_EMPTY = 'CUTOVER_ERR_STATE_EMPTY';
export const STATE_ERR_ABORTED = 'CUTOVER_ERR_ROLLOUT_ABORTED';
export const STATE_ERR_NOT_APPLIED = 'CUTOVER_ERR_ABORT_NOT_APPLIED';
export const STATE_ERR_WRITE = 'CUTOVER_ERR_STATE_WRITE';
export const STATE_ERR_ROUTES_MISSING = 'CUTOVER_ERR_STATE_ROUTES_MISSING';
export const STATE_ERR_UNKNOWN_ROUTE = 'CUTOVER_ERR_STATE_UNKNOWN_ROUTE';

/** Errors that mean the store cannot take a write now (break-glass territory), as opposed to a refused change. */
export const STORE_SICK_CODES: ReadonlySet<string> = new Set([STATE_ERR_UNREACHABLE, STATE_ERR_CORRUPT, STATE_ERR_WRITE]);

/** Another writer changed the state first: nothing was written. */
export class StateConflictError extends CutoverError {
  readonly currentVersion: number;
  constructor(expectedVersion: number, currentVersion: number) {
    super(
      STATE_ERR_CONFLICT,
      `the rollout state changed concurrently: expected version ${expectedVersion}, the store is at version ${currentVersion}; nothing was written: re-read the state (cutover status) and retry`,
      { exitCode: 1, status: 409 },
    );
    this.name = 'StateConflictError';
    this.currentVersion = currentVersion;
  }

  override toJSON(): { code: string; message: string; currentVersion: number } {
    return { code: this.code, message: this.message, currentVersion: this.currentVersion };
  }
}

export function unreachable(url: string, cause: unknown): CutoverError {
  const why = cause instanceof Error ? cause.message : String(cause);
  return new CutoverError(
    STATE_ERR_UNREACHABLE,
    `the state store ${redactUrl(url)} is unreachable (${why}); check that it is running and the URL (--state or state: in cutover.yaml) is right`,
    { exitCode: 1, status: 503, cause },
  );
}

export function corrupt(where: string, why: string, cause?: unknown): CutoverError {
  return new CutoverError(STATE_ERR_CORRUPT, `the rollout state in ${where} is unreadable (${why}); nothing acts on it: restore it from the history or a backup`, {
    exitCode: 1,
    status: 503,
    cause,
  });
}

const OS_REASONS: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  EIO: 'input/output error',
  EMFILE: 'too many open files',
  ENOTDIR: 'a part of the path is not a folder',
};

/** A store write the OS refused (full disk, read-only, no permission): nothing was written, no temp file is left. */
export function writeFailed(path: string, cause: unknown): CutoverError {
  const code = (cause as NodeJS.ErrnoException)?.code;
  const why = code ? `${code}: ${OS_REASONS[code] ?? (cause as Error).message}` : cause instanceof Error ? cause.message : String(cause);
  return new CutoverError(
    STATE_ERR_WRITE,
    `cannot write the rollout state to ${redactUrl(path)} (${why}); nothing was written; free space or fix permissions, or abort through the replicas (cutover abort falls back to their admin planes)`,
    { exitCode: 1, status: 503, cause },
  );
}

/** A whole-state write that leaves out routes the state or a replica has: refused (409), nothing written. */
export function routesMissing(routes: string[]): CutoverError {
  return new CutoverError(
    STATE_ERR_ROUTES_MISSING,
    `state.routes: leaves out ${routes.map((r) => `"${r}"`).join(', ')} (in the current state or served by a live replica); the state must hold every route: put them back (mode legacy to switch one off); nothing was written`,
    { exitCode: 2, status: 409 },
  );
}

/** A route no replica serves and the state does not hold: refused (422), nothing written. */
export function unknownRoute(field: string, route: string, known: string[]): CutoverError {
  return new CutoverError(
    STATE_ERR_UNKNOWN_ROUTE,
    `${field}: unknown route "${route}": no live replica serves it and the state does not hold it (known: ${known.length ? known.join(', ') : '(none)'}); nothing was written`,
    { exitCode: 2, status: 422 },
  );
}

export function stateInput(field: string, reason: string): InputError {
  return new InputError(STATE_ERR_INPUT, field, reason);
}

export function badStateUrl(url: string, reason: string): InputError {
  return new InputError(STATE_ERR_URL, '--state', `${redactUrl(url)}: ${reason} (use file://PATH or redis://HOST:PORT/DB)`);
}

export function emptyStore(url: string): CutoverError {
  return new CutoverError(
    STATE_ERR_EMPTY,
    `the state store ${redactUrl(url)} holds no rollout state yet: start a proxy on it (it seeds the state from cutover.yaml), or run this from the folder of cutover.yaml (--config)`,
    { exitCode: 2, status: 404 },
  );
}

/** A change that would re-ramp an aborted rollout. */
export function refusedWhileAborted(what: string, abortReason: string | undefined): CutoverError {
  return new CutoverError(
    STATE_ERR_ABORTED,
    `${what} refused: the rollout is aborted${abortReason ? ` ("${abortReason}")` : ''}; run \`cutover resume --reason TEXT\` first`,
    { exitCode: 1, status: 409 },
  );
}

/** Hides a password in a redis:// URL before it goes into a message. */
export function redactUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]*:)[^@/]*@/, '$1***@');
}
