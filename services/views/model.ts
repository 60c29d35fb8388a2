/** Plain data the handlers hand to the views. */
import type { Currency } from '../money.js';
import type { Hold } from '../data/dataset.js';

export interface BalanceView {
  accountId: string;
  currency: Currency;
  balanceMinor: number;
  availableMinor: number;
  holds: Hold[];
  asOf: number;
}

/** Currency -> summed balance in minor units. */
export type WalletBalances = Map<Currency, number>;
