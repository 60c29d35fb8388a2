/**
 * The CLI entry: parses arguments, runs one verb, maps errors to exit codes.
 * Keep this file light: `cutover --help` must answer in well under 300 ms, so every
 * verb's code is loaded only when that verb runs (see cli.ts).
 */
import { CommanderError } from 'commander';
import { buildProgram } from './cli.js';
import { isCutoverError } from '../shared/errors.js';

export async function main(argv: string[]): Promise<number> {
  const state = { exitCode: 0 };
  const program = buildProgram(state);
  try {
    await program.parseAsync(argv);
    return state.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version end with exit code 0 and have printed already
      if (err.exitCode === 0) return 0;
      return 2;
    }
    if (isCutoverError(err)) {
      if (err.message) process.stderr.write(`cutover: ${err.message}${err.code !== 'CUTOVER_ERR_EXIT' ? ` [${err.code}]` : ''}\n`);
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
