/**
 * Webhooks of a plan: `onStep`, `onRollback`, `onComplete` get a JSON body; a `gate` is asked
 * before each advance and holds the step unless it answers 2xx. Every call has a timeout and a
 * bounded number of retries, so a dead webhook costs at most
 * `timeoutMs · (retries + 1) + backoff` and never blocks a rollback (the abort is written
 * before `onRollback` is called).
 */
export interface WebhookOutcome {
  url: string;
  ok: boolean;
  status?: number;
  attempts: number;
  error?: string;
  elapsedMs: number;
}

export interface WebhookOptions {
  timeoutMs: number;
  retries: number;
  /** First backoff between attempts, doubled each time (default 100 ms). */
  backoffMs?: number;
  signal?: AbortSignal;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** POSTs `body` as JSON; retries on network errors, timeouts and 5xx/429, not on other 4xx (a definite answer). */
export async function postWebhook(url: string, body: unknown, opts: WebhookOptions): Promise<WebhookOutcome> {
  const t0 = performance.now();
  const payload = JSON.stringify(body);
  let backoff = opts.backoffMs ?? 100;
  let last: WebhookOutcome = { url, ok: false, attempts: 0, elapsedMs: 0 };
  for (let attempt = 1; attempt <= opts.retries + 1; attempt++) {
    try {
      const signal = opts.signal ? AbortSignal.any([opts.signal, AbortSignal.timeout(opts.timeoutMs)]) : AbortSignal.timeout(opts.timeoutMs);
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'user-agent': 'cutover-run' }, body: payload, signal });
      await res.arrayBuffer().catch(() => undefined);
      last = { url, ok: res.status >= 200 && res.status < 300, status: res.status, attempts: attempt, elapsedMs: performance.now() - t0 };
      if (last.ok || (res.status < 500 && res.status !== 429)) return last;
    } catch (err) {
      const e = err as Error;
      const cause = (e.cause as Error | undefined)?.message;
      const why = e.name === 'TimeoutError' ? `no answer within ${opts.timeoutMs} ms` : cause ?? e.message;
      last = { url, ok: false, attempts: attempt, error: why, elapsedMs: performance.now() - t0 };
      if (opts.signal?.aborted) return last;
    }
    if (attempt <= opts.retries) {
      await sleep(backoff);
      backoff *= 2;
    }
  }
  return { ...last, elapsedMs: performance.now() - t0 };
}
