/** Errors of the report part, each with a stable code. */
import { CutoverError, InputError } from '../shared/errors.js';

export const REPORT_ERR_INPUT = 'CUTOVER_ERR_REPORT_INPUT';
export const REPORT_ERR_SOURCE = 'CUTOVER_ERR_REPORT_SOURCE';
export const REPORT_ERR_WRITE = 'CUTOVER_ERR_REPORT_WRITE';
export const REPORT_ERR_GATE = 'CUTOVER_ERR_REPORT_GATE';

/** Bad input (an option, a file's content): exit 2, names the option or file. */
export function reportInputError(field: string, reason: string, cause?: unknown): InputError {
  return new InputError(REPORT_ERR_INPUT, field, reason, { cause });
}

/** A source could not be read (admin API down, store unreachable): exit 2, names the option. */
export function reportSourceError(field: string, reason: string, cause?: unknown): InputError {
  return new InputError(REPORT_ERR_SOURCE, field, reason, { cause });
}

export function reportWriteError(path: string, cause: unknown): CutoverError {
  const code = (cause as NodeJS.ErrnoException)?.code ?? (cause as Error)?.message;
  return new CutoverError(REPORT_ERR_WRITE, `--out: cannot write ${path}: ${code} (choose a writable path)`, { exitCode: 2, cause });
}
