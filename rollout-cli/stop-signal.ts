/**
 * When a long-running verb (`proxy`, `services`, `demo`) should stop: SIGINT, SIGTERM or SIGHUP,
 * or, when it was started through npm (`npx cutover proxy &`, `npm run …`), the npm process
 * that started it going away. npm's wrapper does not always pass a kill on to its child, so
 * killing the backgrounded `npx` used to leave the proxy and the services running as orphans.
 * Started directly (`cutover proxy &`, nohup, systemd), a parent's exit is not a reason to stop.
 */
const WATCH_MS = 500;

export type StopReason = NodeJS.Signals | 'parent exited';

export function startedThroughNpm(env: NodeJS.ProcessEnv = process.env): boolean {
  return typeof env.npm_command === 'string' || typeof env.npm_lifecycle_event === 'string';
}

/** Resolves once, with what asked the process to stop. */
export function waitForStop(opts: { watchParent?: boolean } = {}): Promise<StopReason> {
  const watchParent = opts.watchParent ?? startedThroughNpm();
  return new Promise((resolve) => {
    const parent = process.ppid;
    let timer: NodeJS.Timeout | undefined;
    const done = (reason: StopReason) => {
      for (const s of SIGNALS) process.off(s, handlers[s]);
      if (timer) clearInterval(timer);
      resolve(reason);
    };
    const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
    const handlers = Object.fromEntries(SIGNALS.map((s) => [s, () => done(s)])) as Record<(typeof SIGNALS)[number], () => void>;
    for (const s of SIGNALS) process.once(s, handlers[s]);
    if (watchParent && parent > 1) {
      // an orphan is re-parented (to init or a subreaper): its ppid changes
      timer = setInterval(() => {
        if (process.ppid !== parent) done('parent exited');
      }, WATCH_MS);
      timer.unref();
    }
  });
}
