/**
 * Base of every cutover error. Each part keeps its own error module (proxy/errors.ts,
 * verifier/errors.ts, ...) that builds on this with stable `CUTOVER_ERR_*` codes.
 *
 * `exitCode` is what the CLI entry point exits with when the error reaches it:
 * 2 for bad usage or bad input, 1 for a failed or rolled-back operation.
 */
export class CutoverError extends Error {
  readonly code: string;
  readonly exitCode: 0 | 1 | 2;
  /** HTTP status when the error is answered over HTTP (admin API, proxy). */
  readonly status: number;

  constructor(code: string, message: string, opts: { exitCode?: 0 | 1 | 2; status?: number; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'CutoverError';
    this.code = code;
    this.exitCode = opts.exitCode ?? 1;
    this.status = opts.status ?? 500;
  }

  toJSON(): { code: string; message: string } {
    return { code: this.code, message: this.message };
  }
}

/** Bad input: a config, plan, argument or request body that fails a rule. Names the field. */
export class InputError extends CutoverError {
  readonly field: string;
  constructor(code: string, field: string, reason: string, opts: { cause?: unknown } = {}) {
    super(code, field ? `${field}: ${reason}` : reason, { exitCode: 2, status: 400, cause: opts.cause });
    this.name = 'InputError';
    this.field = field;
  }
}

export function isCutoverError(err: unknown): err is CutoverError {
  return err instanceof CutoverError;
}
