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
    throw err;
  }
}
