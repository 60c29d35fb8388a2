/** Look-ups both services answer the same way (404 for unknown ids). */
import { notFound } from '../errors.js';
import type { Currency } from '../money.js';
import type { HierarchyDef, Member, Wallet } from './dataset.js';
import type { Ledger } from './ledger.js';
import type { BalanceView, WalletBalances } from '../views/model.js';

export function memberOf(ledger: Ledger, id: string): Member {
  const m = ledger.data.members.get(id);
  if (!m) throw notFound('member', id);
  return m;
}

export function walletOf(ledger: Ledger, id: string): Wallet {
  const w = ledger.data.wallets.get(id);
  if (!w) throw notFound('wallet', id);
  return w;
}

export function hierarchyOf(ledger: Ledger, id: string): HierarchyDef {
  const h = ledger.data.hierarchies.get(id);
  if (!h) throw notFound('hierarchy', id);
  return h;
}

export function balanceView(ledger: Ledger, accountId: string, asOf: number): BalanceView {
  const b = ledger.balance(accountId);
  return {
    accountId: b.account.id,
    currency: b.account.currency,
    balanceMinor: b.balanceMinor,
    availableMinor: b.availableMinor,
    holds: b.holds,
    asOf,
  };
}

/** A wallet's accounts summed per currency. */
export function walletBalances(ledger: Ledger, wallet: Wallet): WalletBalances {
  const out: WalletBalances = new Map<Currency, number>();
  for (const a of wallet.accountIds) {
    const acc = ledger.account(a);
    out.set(acc.currency, (out.get(acc.currency) ?? 0) + ledger.balanceMinor(a));
  }
  return out;
}
