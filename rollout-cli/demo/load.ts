/**
 * The demo's steady mixed load: an open-loop schedule (a fixed rate, whatever the answers take)
 * of balance, transaction, statement and wallet reads and a few postings with idempotency keys, from
 * callers with the demo services' API keys. Counts what each side served (x-cutover-upstream).
 */
import { Agent, request } from 'undici';

export interface LoadMix {
  balance: number;
  transactions: number;
  statement: number;
  wallet: number;
  post: number;
}

export interface LoadOptions {
  url: string;
  rps: number;
  /** Accounts to read. */
  accounts: readonly string[];
  /** Wallets to read. */
  wallets: readonly string[];
  /** Accounts that postings go to, kept apart from the read ones so a read never races a posting (which would be a real difference). */
  postAccounts: ReadonlyArray<{ id: string; currency: string }>;
  mix?: LoadMix;
  /** Callers: every read picks one; postings use the first (a key allowed to post). */
  apiKeys: readonly string[];
  maxInFlight?: number;
}

export interface LoadCounts {
  sent: number;
  answered: number;
  failed: number;
  byUpstream: { legacy: number; v2: number };
  byStatus: Record<string, number>;
  posts: number;
}

export interface RunningLoad {
  counts(): LoadCounts;
  stop(): Promise<void>;
}

export const DEFAULT_MIX: LoadMix = { balance: 0.3, transactions: 0.25, statement: 0.25, wallet: 0.15, post: 0.05 };

/** What the n-th request is: a pure function of n, so the mix is exact over any long stretch. */
export function pickKind(n: number, mix: LoadMix): keyof LoadMix {
  // Golden-ratio sequence: evenly spread in [0, 1) without a random generator.
  const u = (n * 0.6180339887498949) % 1;
  if (u < mix.balance) return 'balance';
  if (u < mix.balance + mix.transactions) return 'transactions';
  if (u < mix.balance + mix.transactions + mix.statement) return 'statement';
  if (u < mix.balance + mix.transactions + mix.statement + mix.wallet) return 'wallet';
  return 'post';
}

export function startLoad(o: LoadOptions): RunningLoad {
  const mix = o.mix ?? DEFAULT_MIX;
  const maxInFlight = o.maxInFlight ?? 256;
  const agent = new Agent({ connections: 64, pipelining: 1, keepAliveTimeout: 10_000 });
  const c: LoadCounts = { sent: 0, answered: 0, failed: 0, byUpstream: { legacy: 0, v2: 0 }, byStatus: {}, posts: 0 };
  const t0 = performance.now();
  let n = 0;
  let inFlight = 0;
  let lastKey = '';
  let lastBody = '';
  const period = new Date().toISOString().slice(0, 7);

  const fire = () => {
    const kind = pickKind(n, mix);
    const account = o.accounts[Math.floor(Math.random() * o.accounts.length)]!;
    const target = o.postAccounts[c.posts % o.postAccounts.length]!;
    const key = o.apiKeys[n % o.apiKeys.length]!;
    n++;
    let path: string;
    let init: Parameters<typeof request>[1] = { dispatcher: agent, headers: { 'x-api-key': key } };
    if (kind === 'balance') path = `/accounts/${account}/balance`;
    else if (kind === 'transactions') path = `/accounts/${account}/transactions?limit=10`;
    else if (kind === 'statement') path = `/accounts/${account}/statements/${period}`;
    else if (kind === 'wallet') path = `/wallets/${o.wallets[n % o.wallets.length]}`;
    else {
      path = '/transactions';
      // Every tenth posting is a client retry with the previous key: answered 200, posted once.
      const idem = c.posts % 10 === 9 && lastKey ? lastKey : `demo-${process.pid}-${c.posts}`;
      const body = idem === lastKey ? lastBody : JSON.stringify({ accountId: target.id, type: c.posts % 3 === 0 ? 'debit' : 'credit', amount: target.currency === 'JPY' ? '120' : '12.34', currency: target.currency, description: 'demo load' });
      lastKey = idem;
      lastBody = body;
      c.posts++;
      init = { dispatcher: agent, method: 'POST', body, headers: { 'x-api-key': o.apiKeys[0]!, 'content-type': 'application/json', 'idempotency-key': idem } };
    }
    inFlight++;
    c.sent++;
    request(`${o.url}${path}`, init)
      .then(async (r) => {
        const side = r.headers['x-cutover-upstream'];
        // 'v2', or the V2 service's name once the proxy names upstreams
        if (side === 'legacy') c.byUpstream.legacy++;
        else if (typeof side === 'string' && side !== '') c.byUpstream.v2++;
        c.byStatus[r.statusCode] = (c.byStatus[r.statusCode] ?? 0) + 1;
        await r.body.dump();
        c.answered++;
      })
      .catch(() => c.failed++)
      .finally(() => inFlight--);
  };

  // Catch up with the schedule on every tick: timers fire late on a busy machine.
  const timer = setInterval(() => {
    const due = Math.floor(((performance.now() - t0) * o.rps) / 1000) - c.sent;
    for (let k = 0; k < due && inFlight < maxInFlight; k++) fire();
  }, 10);

  return {
    counts: () => ({ ...c, byUpstream: { ...c.byUpstream }, byStatus: { ...c.byStatus } }),
    async stop() {
      clearInterval(timer);
      const deadline = Date.now() + 5000;
      while (inFlight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      await agent.destroy().catch(() => undefined);
    },
  };
}
