/**
 * The CLI entry: parses arguments, runs one verb, maps errors to exit codes.
 * Keep this file light: `cutover --help` must answer in well under 300 ms, so every
 * verb's code is loaded only when that verb runs (see cli.ts).
 */
import { CommanderError } from 'commander';
import { buildProgram } from './cli.js';
import { isCutoverError } from '../shared/errors.js';

/** `--json` among the arguments (before a `--`): errors are then also a JSON document on stdout. */
export function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end < 0 ? argv : argv.slice(0, end)).includes('--json');
}

/**
 * The error document of `--json` (docs/cli-json-errors.md): one line on stdout, so a script that
 * parses stdout gets it whatever failed; the human line still goes to stderr.
 */
export function jsonError(code: string, message: string, exitCode: number, field?: string): string {
  return `${JSON.stringify({ schemaVersion: 1, ok: false, error: { code, message, exitCode, ...(field ? { field } : {}) } })}\n`;
}

export async function main(argv: string[]): Promise<number> {
  const json = wantsJson(argv);
  const state = { exitCode: 0 };
  const program = buildProgram(state);
  try {
    await program.parseAsync(argv);
    return state.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version end with exit code 0 and have printed already
      if (err.exitCode === 0) return 0;
      if (json) process.stdout.write(jsonError('CUTOVER_ERR_USAGE', err.message.replace(/^error: /, ''), 2));
      return 2;
    }
    if (isCutoverError(err)) {
      if (err.message) process.stderr.write(`cutover: ${err.message}${err.code !== 'CUTOVER_ERR_EXIT' ? ` [${err.code}]` : ''}\n`);
      if (json && err.message) process.stdout.write(jsonError(err.code, err.message, err.exitCode, (err as { field?: string }).field));
      return err.exitCode;
    }
    return unexpected(err);
  }
}

/**
 * Whatever else escaped a verb: a file the user named that cannot be used is bad input (exit 2);
 * anything else is a failure (exit 1). Never a stack trace, unless CUTOVER_DEBUG=1 asks for it.
 */
function unexpected(err: unknown): number {
  const e = err as NodeJS.ErrnoException | undefined;
  if (process.env.CUTOVER_DEBUG === '1') process.stderr.write(`${e?.stack ?? String(err)}\n`);
  if (typeof e?.code === 'string' && /^E[A-Z]+$/.test(e.code) && typeof e.path === 'string') {
    process.stderr.write(`cutover: cannot use ${e.path}: ${e.code} [CUTOVER_ERR_INPUT]\n`);
    return 2;
  }
  const message = (e?.message ?? String(err)).split('\n')[0];
  process.stderr.write(`cutover: unexpected failure: ${message} (CUTOVER_DEBUG=1 shows where)\n`);
  return 1;
}
