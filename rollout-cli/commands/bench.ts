/**
 * `cutover bench`: the benchmark suite (`benchmarks/index.ts`, same as `npm run bench`) as a
 * child process with its output passed through. Needs the source tree (benchmarks/ and the
 * dev dependency tsx): from a clone, not from an installed package.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CutoverError } from '../../shared/errors.js';
import { usageError } from '../errors.js';

const PARTS = ['proxy', 'verifier', 'abort', 'nginx', 'cli'];

/** The checkout this file is in: the nearest folder up with benchmarks/index.ts. */
function sourceRoot(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'benchmarks', 'index.ts')) && existsSync(join(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  return null;
}

export async function run(_args: string[], opts: { only?: string; quick?: boolean }): Promise<number> {
  if (opts.only !== undefined) {
    const bad = opts.only.split(',').filter((p) => !PARTS.includes(p.trim()));
    if (bad.length > 0 || opts.only.trim() === '') throw usageError('--only', `must be one or more of ${PARTS.join(', ')}, comma-separated (got ${JSON.stringify(opts.only)})`);
  }
  const root = sourceRoot();
  let tsx: string | null = null;
  try {
    tsx = import.meta.resolve('tsx');
  } catch {
    tsx = null;
  }
  if (!root || !tsx) {
    throw new CutoverError('CUTOVER_ERR_BENCH_UNAVAILABLE', 'cutover bench needs the source tree and its dev dependencies: run it from a clone after npm ci (npm run bench)', { exitCode: 2 });
  }
  const args = ['--import', tsx, join(root, 'benchmarks', 'index.ts'), ...(opts.quick ? ['--quick'] : []), ...(opts.only ? ['--only', opts.only] : [])];
  const child = spawn(process.execPath, args, { cwd: root, stdio: 'inherit' });
  const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
  const onInt = forward('SIGINT');
  const onTerm = forward('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  try {
    return await new Promise<number>((res) => child.on('exit', (code) => res(code ?? 1)));
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
  }
}
