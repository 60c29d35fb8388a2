import { CutoverError, InputError } from '../shared/errors.js';

export const CLI_ERR_USAGE = 'CUTOVER_ERR_USAGE';
export const CLI_ERR_NOT_AVAILABLE = 'CUTOVER_ERR_NOT_AVAILABLE';

/** Thrown by a command to end with a given exit code after it has printed what it had to say. */
export class ExitError extends CutoverError {
  constructor(exitCode: 0 | 1 | 2, message = '') {
    super('CUTOVER_ERR_EXIT', message, { exitCode });
    this.name = 'ExitError';
  }
}

export function usageError(field: string, reason: string): InputError {
  return new InputError(CLI_ERR_USAGE, field, reason);
}

export function notYetAvailable(verb: string, issue: number): CutoverError {
  return new CutoverError(CLI_ERR_NOT_AVAILABLE, `\`cutover ${verb}\` is not yet available (issue ${issue}); see the README for what works today`, {
    exitCode: 2,
  });
}
