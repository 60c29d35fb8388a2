/**
 * The demo's "database": the seeded history plus postings made at run time, with the
 * idempotency records. Legacy and V2 started together share one Ledger, as two
 * implementations of one system share one database; each posting records which service
 * applied it, so "applied twice" can be checked from outside.
 */
import { badRequest, notFound, ServiceError, SVC_ERR } from '../errors.js';
import type { Currency } from '../money.js';
import { createDataset, generateHistory, type Account, type Dataset, type Hold, type Txn, type TxnType } from './dataset.js';

export type ServiceName = 'legacy' | 'v2';

interface AccountState {
  /** Oldest first: the seeded history, then postings in the order they were applied. */
  txns: Txn[];
  holds: Hold[];
  balanceMinor: number;
  heldMinor: number;
}

export interface PostingInput {
  accountId: string;
  type: TxnType;
  amountMinor: number;
  currency: Currency;
  description: string;
  idempotencyKey: string;
}

export interface PostingRecord {
  idempotencyKey: string;
  transactionId: string;
  accountId: string;
  /** How many ledger entries this key produced: 1 when correct, 2 when a POST was applied twice. */
  applied: number;
  appliedBy: Record<ServiceName, number>;
  /** How many POSTs carried this key (the first and every replay). */
  requests: number;
  firstAt: number;
  lastAt: number;
}

interface PostingEntry extends PostingRecord {
  fingerprint: string;
}

export type PostingResult = { created: boolean; txn: Txn };

/**
 * What a posting changed, as data: the services of the split layout (each its own process)
 * keep a replica of the ledger and apply the changes the one writer (`ledger-link.ts`) sends.
 */
export type LedgerChange =
  | { type: 'posted'; entry: PostingRecord & { fingerprint: string }; txns: Txn[] }
  | { type: 'replayed'; idempotencyKey: string; at: number };

/** Where a service's postings are written: its own ledger, or the shared one in another process. */
export interface PostingWriter {
  post(service: ServiceName, input: PostingInput, times?: number): Promise<PostingResult>;
}

export interface Statement {
  account: Account;
  period: string;
  openingMinor: number;
  closingMinor: number;
  creditsMinor: number;
  debitsMinor: number;
  lines: Txn[];
}

const PERIOD_RE = /^(\d{4})-(0[1-9]|1[0-2])$/;

export function monthOf(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
}

export function encodeCursor(accountId: string, txnId: string): string {
  return Buffer.from(`${accountId}|${txnId}`, 'utf8').toString('base64url');
}

export class Ledger {
  readonly data: Dataset;
  private readonly states = new Map<string, AccountState>();
  private readonly postingsByKey = new Map<string, PostingEntry>();
  private nextPostingId = 1;
  private readonly listeners = new Set<(accountId: string) => void>();
  private readonly changeListeners = new Set<(change: LedgerChange) => void>();
  /** The clock for postings and statement ranges; tests may pin it. */
  now: () => number = Date.now;

  constructor(seedOrData: number | Dataset) {
    this.data = typeof seedOrData === 'number' ? createDataset(seedOrData) : seedOrData;
  }

  account(id: string): Account {
    const acc = this.data.accounts.get(id);
    if (!acc) throw notFound('account', id);
    return acc;
  }

  private state(acc: Account): AccountState {
    let s = this.states.get(acc.id);
    if (!s) {
      const { txns, holds } = generateHistory(this.data.seed, acc);
      let balanceMinor = 0;
      for (const t of txns) balanceMinor += t.type === 'credit' ? t.amountMinor : -t.amountMinor;
      const heldMinor = holds.reduce((sum, h) => sum + h.amountMinor, 0);
      s = { txns, holds, balanceMinor, heldMinor };
      this.states.set(acc.id, s);
    }
    return s;
  }

  balance(accountId: string): { account: Account; balanceMinor: number; availableMinor: number; holds: Hold[] } {
    const account = this.account(accountId);
    const s = this.state(account);
    return { account, balanceMinor: s.balanceMinor, availableMinor: s.balanceMinor - s.heldMinor, holds: s.holds };
  }

  balanceMinor(accountId: string): number {
    return this.state(this.account(accountId)).balanceMinor;
  }

  /** Newest first; `cursor` is the opaque value a previous page returned as nextCursor. */
  transactionsPage(accountId: string, limit: number, cursor?: string): { account: Account; items: Txn[]; nextCursor: string | null } {
    const account = this.account(accountId);
    const { txns } = this.state(account);
    let start = txns.length - 1;
    if (cursor !== undefined) {
      const after = this.decodeCursor(accountId, cursor);
      const idx = txns.findIndex((t) => t.id === after);
      if (idx < 0) throw badRequest('cursor', `does not point into account ${accountId}'s transactions (start again without cursor)`);
      start = idx - 1;
    }
    const items: Txn[] = [];
    for (let i = start; i >= 0 && items.length < limit; i--) items.push(txns[i]);
    const last = items[items.length - 1];
    const more = last !== undefined && txns.indexOf(last) > 0;
    return { account, items, nextCursor: more ? encodeCursor(accountId, last.id) : null };
  }

  private decodeCursor(accountId: string, cursor: string): string {
    const bad = () => badRequest('cursor', 'is not a cursor this service issued (pass nextCursor from the previous page unchanged)');
    if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) throw bad();
    const text = Buffer.from(cursor, 'base64url').toString('utf8');
    const [acc, txn, extra] = text.split('|');
    if (extra !== undefined || !acc || !txn || !/^T-[A-Z0-9-]+$/.test(txn)) throw bad();
    if (acc !== accountId) throw badRequest('cursor', `was issued for account ${acc}, not ${accountId}`);
    return txn;
  }

  /** Validates `period` (400) and its range (404: before the account opened, or in the future). */
  statement(accountId: string, period: string): Statement {
    const account = this.account(accountId);
    const m = PERIOD_RE.exec(period);
    if (!m) throw badRequest('period', `must be YYYY-MM with a month 01..12, got "${period}"`);
    const start = Date.UTC(Number(m[1]), Number(m[2]) - 1, 1);
    const end = Date.UTC(Number(m[1]), Number(m[2]), 1);
    const opened = monthOf(account.openedAt);
    const current = monthOf(this.now());
    if (period < opened || period > current) {
      throw new ServiceError(
        404,
        SVC_ERR.NOT_FOUND,
        `statement ${period} does not exist for account ${accountId}: statements run from ${opened} to ${current}`,
      );
    }
    const { txns } = this.state(account);
    let openingMinor = 0;
    let creditsMinor = 0;
    let debitsMinor = 0;
    const lines: Txn[] = [];
    for (const t of txns) {
      const signed = t.type === 'credit' ? t.amountMinor : -t.amountMinor;
      if (t.postedAt < start) openingMinor += signed;
      else if (t.postedAt < end) {
        lines.push(t);
        if (t.type === 'credit') creditsMinor += t.amountMinor;
        else debitsMinor += t.amountMinor;
      }
    }
    return { account, period, openingMinor, closingMinor: openingMinor + creditsMinor - debitsMinor, creditsMinor, debitsMinor, lines };
  }

  /**
   * Applies a posting once per idempotency key. `times` > 1 is the double-apply bug: the same
   * request is written to the ledger again as a separate entry. A key seen before returns the
   * original transaction and writes nothing; the same key with a different request is a 409.
   */
  post(service: ServiceName, input: PostingInput, times = 1): PostingResult {
    const account = this.account(input.accountId);
    const fingerprint = `${input.accountId}|${input.type}|${input.amountMinor}|${input.currency}|${input.description}`;
    const now = this.now();
    const seen = this.postingsByKey.get(input.idempotencyKey);
    if (seen) {
      if (seen.fingerprint !== fingerprint) {
        throw new ServiceError(
          409,
          SVC_ERR.IDEMPOTENCY_CONFLICT,
          `Idempotency-Key: "${input.idempotencyKey}" was already used for a different request (use a new key for a new posting)`,
        );
      }
      this.applyChange({ type: 'replayed', idempotencyKey: input.idempotencyKey, at: now });
      return { created: false, txn: this.transaction(account.id, seen.transactionId) };
    }
    const txns: Txn[] = [];
    for (let i = 0; i < times; i++) {
      txns.push({
        id: `T-P${String(this.nextPostingId + i).padStart(7, '0')}`,
        accountId: account.id,
        type: input.type,
        amountMinor: input.amountMinor,
        currency: input.currency,
        description: input.description,
        postedAt: now,
        idempotencyKey: input.idempotencyKey,
      });
    }
    const entry: PostingEntry = {
      idempotencyKey: input.idempotencyKey,
      transactionId: txns[0]!.id,
      accountId: account.id,
      fingerprint,
      applied: times,
      appliedBy: { legacy: service === 'legacy' ? times : 0, v2: service === 'v2' ? times : 0 },
      requests: 1,
      firstAt: now,
      lastAt: now,
    };
    this.applyChange({ type: 'posted', entry, txns });
    return { created: true, txn: txns[0]! };
  }

  /** One transaction of an account by id (a posting's, after it was applied). */
  transaction(accountId: string, txnId: string): Txn {
    const txn = this.state(this.account(accountId)).txns.find((t) => t.id === txnId);
    if (!txn) throw new ServiceError(500, SVC_ERR.INTERNAL, `transaction ${txnId} of account ${accountId} is missing from this ledger`);
    return txn;
  }

  /** Applies a change made here (post) or by the writer of a shared ledger; tells the change listeners. */
  applyChange(change: LedgerChange): void {
    if (change.type === 'replayed') {
      const seen = this.postingsByKey.get(change.idempotencyKey);
      if (seen) {
        seen.requests++;
        seen.lastAt = change.at;
      }
    } else {
      const s = this.state(this.account(change.entry.accountId));
      for (const txn of change.txns) {
        s.txns.push({ ...txn });
        s.balanceMinor += txn.type === 'credit' ? txn.amountMinor : -txn.amountMinor;
        this.nextPostingId = Math.max(this.nextPostingId, Number(txn.id.slice(3)) + 1);
      }
      this.postingsByKey.set(change.entry.idempotencyKey, { ...change.entry, appliedBy: { ...change.entry.appliedBy } });
      for (const l of this.listeners) l(change.entry.accountId);
    }
    for (const l of this.changeListeners) l(change);
  }

  /** Called with every change, in order (the writer of a shared ledger sends them on). */
  onChange(listener: (change: LedgerChange) => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  /** The idempotency records, oldest first (times as ISO 8601). */
  postings(): Array<Omit<PostingRecord, 'firstAt' | 'lastAt'> & { firstAt: string; lastAt: string }> {
    return [...this.postingsByKey.values()].map(({ fingerprint: _f, ...rec }) => ({
      ...rec,
      appliedBy: { ...rec.appliedBy },
      firstAt: new Date(rec.firstAt).toISOString(),
      lastAt: new Date(rec.lastAt).toISOString(),
    }));
  }

  /** Called with the account id after every new posting (V2 drops cached hierarchy totals). */
  onPosted(listener: (accountId: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** The ledger itself as a service's posting writer (legacy and V2 in one process). */
export function localWriter(ledger: Ledger): PostingWriter {
  return { post: async (service, input, times) => ledger.post(service, input, times) };
}
