/**
 * `cutover demo`: the whole product in one command (services, proxy, load, a plan to 100 %, a
 * bad release rolled back, the HTML report). Exit 0 when both scenarios went as shown, 1 when
 * not or when interrupted (Ctrl-C / SIGTERM stop everything it started), 2 for bad options.
 * The work is in rollout-cli/demo/.
 */
import { waitForStop } from '../stop-signal.js';
import { usageError } from '../errors.js';
import { runDemo } from '../demo/run-demo.js';

export interface DemoCliOptions {
  fast?: boolean;
  state?: string;
  view?: boolean;
  json?: boolean;
  out?: string;
  freePorts?: boolean;
}

export async function run(_args: string[], opts: DemoCliOptions): Promise<number> {
  if (opts.state !== undefined && !/^(file|redis|rediss|redis\+sentinel|rediss\+sentinel):\/\/./.test(opts.state)) {
    throw usageError('--state', `must be a file://PATH or redis://HOST:PORT/DB URL (got ${JSON.stringify(opts.state)})`);
  }
  if (opts.out !== undefined && opts.out.trim() === '') throw usageError('--out', 'needs a folder');
  const stopper = new AbortController();
  // SIGINT, SIGTERM, SIGHUP, or the npx that started it going away: stop everything it started
  void waitForStop().then(() => stopper.abort());
  try {
    // With --json the summary is the only thing on stdout; the story goes to stderr.
    const stream = opts.json ? process.stderr : process.stdout;
    const summary = await runDemo({
      fast: !!opts.fast,
      state: opts.state,
      liveView: opts.view !== false && !opts.json && !!process.stdout.isTTY,
      freePorts: !!opts.freePorts,
      out: opts.out ?? 'reports/out',
      stream,
      signal: stopper.signal,
    });
    if (opts.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    return summary.ok && !summary.interrupted ? 0 : 1;
  } finally {
    // nothing to undo: the process ends with this verb
  }
}
