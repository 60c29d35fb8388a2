/**
 * V2 wire format, equivalent to legacy but written the way the rewrite writes it: money as
 * fixed-scale decimal strings ("1234.50", JPY "1234"), timestamps as `+00:00` (member
 * `joinedAt` and hold `expiresAt` as epoch milliseconds), holds newest id first, statement
 * lines newest first, wallet balances by currency Z..A, hierarchy children by id Z..A (and
 * its account list, when asked for, in reverse), plus
 * `schemaVersion` and `links`. Business facts are the same.
 */
import { formatMoney, type Currency } from '../money.js';
import type { Hold, Member, Txn, Wallet } from '../data/dataset.js';
import type { Statement } from '../data/ledger.js';
import type { HierarchyTotal } from '../data/hierarchy.js';
import type { BalanceView, WalletBalances } from './model.js';
import { v2Time } from './time.js';

export const SCHEMA_VERSION = 2;

export function v2Txn(t: Txn) {
  return {
    id: t.id,
    accountId: t.accountId,
    type: t.type,
    amount: formatMoney(t.amountMinor, t.currency),
    currency: t.currency,
    description: t.description,
    postedAt: v2Time(t.postedAt),
  };
}

function v2Hold(h: Hold) {
  return {
    id: h.id,
    amount: formatMoney(h.amountMinor, h.currency),
    currency: h.currency,
    reason: h.reason,
    createdAt: v2Time(h.createdAt),
    expiresAt: h.expiresAt,
  };
}

export function v2Balance(v: BalanceView, requestId: string) {
  const c = v.currency;
  return {
    schemaVersion: SCHEMA_VERSION,
    accountId: v.accountId,
    currency: c,
    balance: formatMoney(v.balanceMinor, c),
    available: formatMoney(v.availableMinor, c),
    holds: v.holds
      .slice()
      .sort((a, b) => b.id.localeCompare(a.id))
      .map(v2Hold),
    asOf: v2Time(v.asOf),
    requestId,
    links: { self: `/accounts/${v.accountId}/balance`, transactions: `/accounts/${v.accountId}/transactions` },
  };
}

export function v2Transactions(accountId: string, items: Txn[], nextCursor: string | null, limit: number, requestId: string) {
  return {
    schemaVersion: SCHEMA_VERSION,
    accountId,
    transactions: items.map(v2Txn),
    nextCursor,
    requestId,
    links: {
      self: `/accounts/${accountId}/transactions?limit=${limit}`,
      next: nextCursor === null ? null : `/accounts/${accountId}/transactions?limit=${limit}&cursor=${nextCursor}`,
    },
  };
}

export function v2Posting(t: Txn, requestId: string) {
  return {
    schemaVersion: SCHEMA_VERSION,
    transaction: v2Txn(t),
    requestId,
    links: { account: `/accounts/${t.accountId}/balance` },
  };
}

export function v2Statement(s: Statement, generatedAt: number, requestId: string) {
  const c = s.account.currency;
  return {
    schemaVersion: SCHEMA_VERSION,
    accountId: s.account.id,
    period: s.period,
    currency: c,
    openingBalance: formatMoney(s.openingMinor, c),
    closingBalance: formatMoney(s.closingMinor, c),
    totalCredits: formatMoney(s.creditsMinor, c),
    totalDebits: formatMoney(s.debitsMinor, c),
    transactionCount: s.lines.length,
    lines: s.lines.slice().reverse().map(v2Txn),
    generatedAt: v2Time(generatedAt),
    requestId,
    links: { account: `/accounts/${s.account.id}/balance` },
  };
}

export function v2Member(m: Member, requestId: string) {
  return {
    schemaVersion: SCHEMA_VERSION,
    memberId: m.id,
    name: m.name,
    email: m.email,
    tier: m.tier,
    joinedAt: m.joinedAt,
    accountIds: m.accountIds,
    walletIds: m.walletIds,
    requestId,
    links: { wallets: m.walletIds.map((w) => `/wallets/${w}`) },
  };
}

export function v2Wallet(w: Wallet, balances: WalletBalances, requestId: string) {
  return {
    schemaVersion: SCHEMA_VERSION,
    walletId: w.id,
    memberId: w.memberId,
    name: w.name,
    createdAt: v2Time(w.createdAt),
    accountIds: w.accountIds,
    balances: [...balances.entries()]
      .sort(([a], [b]) => b.localeCompare(a))
      .map(([currency, minor]) => ({ currency, amount: formatMoney(minor, currency as Currency) })),
    requestId,
    links: { member: `/members/${w.memberId}` },
  };
}

function reversed<T, U>(items: readonly T[], f: (t: T) => U): U[] {
  const out: U[] = new Array(items.length);
  for (let i = 0; i < items.length; i++) out[items.length - 1 - i] = f(items[i]);
  return out;
}

export function v2Hierarchy(h: HierarchyTotal, requestId: string) {
  const c = h.currency;
  return {
    schemaVersion: SCHEMA_VERSION,
    hierarchyId: h.hierarchyId,
    name: h.name,
    currency: c,
    balance: formatMoney(h.balanceMinor, c),
    accountCount: h.accountCount,
    children: h.children
      .slice()
      .sort((a, b) => b.id.localeCompare(a.id))
      .map((b) => ({ id: b.id, name: b.name, balance: formatMoney(b.balanceMinor, c), accountCount: b.accountCount })),
    ...(h.accounts && { accounts: reversed(h.accounts, (a) => ({ accountId: a.id, branchId: a.branchId, balance: formatMoney(a.balanceMinor, c) })) }),
    asOf: v2Time(h.computedAt),
    requestId,
    links: { self: `/hierarchies/${h.hierarchyId}/balance` },
  };
}
