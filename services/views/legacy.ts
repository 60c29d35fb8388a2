/**
 * Legacy wire format: money as JSON numbers, ISO timestamps with `.000Z`, arrays in
 * ledger order (holds by creation time, statement lines oldest first, wallet balances by
 * currency A..Z). Pure functions from domain data to response bodies.
 */
import { moneyAsNumber, type Currency } from '../money.js';
import type { Hold, Member, Txn, Wallet } from '../data/dataset.js';
import type { Statement } from '../data/ledger.js';
import type { HierarchyTotal } from '../data/hierarchy.js';
import type { BalanceView, WalletBalances } from './model.js';
import { legacyTime } from './time.js';

export function legacyTxn(t: Txn) {
  return {
    id: t.id,
    accountId: t.accountId,
    type: t.type,
    amount: moneyAsNumber(t.amountMinor, t.currency),
    currency: t.currency,
    description: t.description,
    postedAt: legacyTime(t.postedAt),
  };
}

function legacyHold(h: Hold) {
  return {
    id: h.id,
    amount: moneyAsNumber(h.amountMinor, h.currency),
    currency: h.currency,
    reason: h.reason,
    createdAt: legacyTime(h.createdAt),
    expiresAt: legacyTime(h.expiresAt),
  };
}

export function legacyBalance(v: BalanceView, requestId: string) {
  const c = v.currency;
  return {
    accountId: v.accountId,
    currency: c,
    balance: moneyAsNumber(v.balanceMinor, c),
    available: moneyAsNumber(v.availableMinor, c),
    holds: v.holds
      .slice()
      .sort((a, b) => a.createdAt - b.createdAt || a.id.localeCompare(b.id))
      .map(legacyHold),
    asOf: legacyTime(v.asOf),
    requestId,
  };
}

export function legacyTransactions(accountId: string, items: Txn[], nextCursor: string | null, requestId: string) {
  return { accountId, transactions: items.map(legacyTxn), nextCursor, requestId };
}

export function legacyPosting(t: Txn, requestId: string) {
  return { transaction: legacyTxn(t), requestId };
}

export function legacyStatement(s: Statement, generatedAt: number, requestId: string) {
  const c = s.account.currency;
  return {
    accountId: s.account.id,
    period: s.period,
    currency: c,
    openingBalance: moneyAsNumber(s.openingMinor, c),
    closingBalance: moneyAsNumber(s.closingMinor, c),
    totalCredits: moneyAsNumber(s.creditsMinor, c),
    totalDebits: moneyAsNumber(s.debitsMinor, c),
    transactionCount: s.lines.length,
    lines: s.lines.map(legacyTxn),
    generatedAt: legacyTime(generatedAt),
    requestId,
  };
}

export function legacyMember(m: Member, requestId: string) {
  return {
    memberId: m.id,
    name: m.name,
    email: m.email,
    tier: m.tier,
    joinedAt: legacyTime(m.joinedAt),
    accountIds: m.accountIds,
    walletIds: m.walletIds,
    requestId,
  };
}

export function legacyWallet(w: Wallet, balances: WalletBalances, requestId: string) {
  return {
    walletId: w.id,
    memberId: w.memberId,
    name: w.name,
    createdAt: legacyTime(w.createdAt),
    accountIds: w.accountIds,
    balances: [...balances.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([currency, minor]) => ({ currency, amount: moneyAsNumber(minor, currency as Currency) })),
    requestId,
  };
}

export function legacyHierarchy(h: HierarchyTotal, asOf: number, requestId: string) {
  const c = h.currency;
  return {
    hierarchyId: h.hierarchyId,
    name: h.name,
    currency: c,
    balance: moneyAsNumber(h.balanceMinor, c),
    accountCount: h.accountCount,
    children: h.children.map((b) => ({ id: b.id, name: b.name, balance: moneyAsNumber(b.balanceMinor, c), accountCount: b.accountCount })),
    ...(h.accounts && { accounts: h.accounts.map((a) => ({ accountId: a.id, branchId: a.branchId, balance: moneyAsNumber(a.balanceMinor, c) })) }),
    asOf: legacyTime(asOf),
    requestId,
  };
}
