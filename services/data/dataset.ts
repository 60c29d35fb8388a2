/**
 * The demo's business data, generated from one seed: members, accounts (with currency),
 * wallets, each account's historical transactions and holds, and account hierarchies.
 * Same seed, same data, in every process. Per-account history is generated on first use
 * (each account has its own PRNG stream), so start-up is cheap and memory follows use.
 */
import { CURRENCIES, type Currency } from '../money.js';
import { intBetween, mixSeed, mulberry32, pick, type Rng } from './prng.js';

export const MEMBER_COUNT = 800;
export const ACCOUNT_COUNT = 3000;
export const WALLET_COUNT = 400;
export const BIG_HIERARCHY_ID = 'H-BIG';
export const BIG_BRANCHES = 500;
export const BIG_LEAVES_PER_BRANCH = 400; // 500 x 400 = 200,000 accounts

/** Historical data covers 2024-01-01 .. 2025-12-31 (UTC); postings made at run time are later. */
export const HISTORY_START = Date.UTC(2024, 0, 1);
export const HISTORY_END = Date.UTC(2025, 11, 31, 23, 59, 59);

export type TxnType = 'credit' | 'debit';

export interface Member {
  id: string;
  name: string;
  email: string;
  tier: 'standard' | 'gold' | 'platinum';
  joinedAt: number;
  accountIds: string[];
  walletIds: string[];
}

export interface Account {
  id: string;
  num: number;
  memberId: string;
  currency: Currency;
  type: 'checking' | 'savings' | 'business';
  name: string;
  openedAt: number;
}

export interface Wallet {
  id: string;
  memberId: string;
  name: string;
  createdAt: number;
  accountIds: string[];
}

export interface Txn {
  id: string;
  accountId: string;
  type: TxnType;
  /** Integer minor units, always > 0; `type` gives the direction. */
  amountMinor: number;
  currency: Currency;
  description: string;
  postedAt: number;
  idempotencyKey?: string;
}

export interface Hold {
  id: string;
  accountId: string;
  amountMinor: number;
  currency: Currency;
  reason: string;
  createdAt: number;
  expiresAt: number;
}

export interface HierarchyBranch {
  id: string;
  name: string;
  /** Real accounts (small hierarchies) ... */
  accountIds?: string[];
  /** ... or a range of generated leaf accounts of the big hierarchy. */
  leafStart?: number;
  leafCount?: number;
}

export interface HierarchyDef {
  id: string;
  name: string;
  currency: Currency;
  accountCount: number;
  branches: HierarchyBranch[];
}

export interface Dataset {
  seed: number;
  members: Map<string, Member>;
  accounts: Map<string, Account>;
  wallets: Map<string, Wallet>;
  hierarchies: Map<string, HierarchyDef>;
  /** Which small hierarchy an account belongs to (for cache invalidation on postings). */
  hierarchyOfAccount: Map<string, string>;
}

const FIRST = ['Ada', 'Grace', 'Linus', 'Margaret', 'Alan', 'Barbara', 'Dennis', 'Frances', 'Ken', 'Radia', 'Edsger', 'Joan', 'Donald', 'Hedy', 'Niklaus', 'Sophie'];
const LAST = ['Lovelace', 'Hopper', 'Torvalds', 'Hamilton', 'Turing', 'Liskov', 'Ritchie', 'Allen', 'Thompson', 'Perlman', 'Dijkstra', 'Clarke', 'Knuth', 'Lamarr', 'Wirth', 'Wilson'];
const CREDIT_TEXT = ['Salary', 'Refund', 'Transfer in', 'Interest', 'Card reversal', 'Deposit'];
const DEBIT_TEXT = ['Groceries', 'Rent', 'Utilities', 'Card payment', 'Transfer out', 'Subscription', 'Travel', 'Insurance'];
const HOLD_TEXT = ['Card authorisation', 'Pending transfer', 'Hotel pre-authorisation', 'Fuel pre-authorisation'];
const CURRENCY_WEIGHTS: Array<[Currency, number]> = [
  ['USD', 0.5],
  ['EUR', 0.25],
  ['GBP', 0.15],
  ['JPY', 0.1],
];

export const pad = (n: number, width: number): string => String(n).padStart(width, '0');
export const accountId = (num: number): string => `A-${pad(num, 6)}`;
export const memberId = (num: number): string => `M-${pad(num, 6)}`;
export const walletId = (num: number): string => `W-${pad(num, 6)}`;
export const bigLeafId = (index: number): string => `A-B${pad(index + 1, 6)}`;

/** Whole seconds between a and b. */
function timeBetween(rng: Rng, a: number, b: number): number {
  return Math.floor((a + rng() * (b - a)) / 1000) * 1000;
}

function pickCurrency(rng: Rng): Currency {
  let r = rng();
  for (const [c, w] of CURRENCY_WEIGHTS) {
    if (r < w) return c;
    r -= w;
  }
  return 'USD';
}

/** A typical amount in minor units: 2-decimal currencies get cents, JPY whole yen. */
function amountMinor(rng: Rng, currency: Currency, maxMajor: number): number {
  const scale = CURRENCIES[currency];
  const factor = currency === 'JPY' ? 100 : 1; // yen amounts are ~100x larger in major units
  const max = maxMajor * factor * 10 ** scale;
  return Math.max(1, Math.floor(rng() * rng() * max));
}

export function createDataset(seed: number): Dataset {
  const rng = mulberry32(mixSeed(seed, 0x5eed));
  const members = new Map<string, Member>();
  const accounts = new Map<string, Account>();
  const wallets = new Map<string, Wallet>();

  for (let m = 1; m <= MEMBER_COUNT; m++) {
    const first = pick(rng, FIRST);
    const last = pick(rng, LAST);
    members.set(memberId(m), {
      id: memberId(m),
      name: `${first} ${last}`,
      email: `${first}.${last}.${m}@example.test`.toLowerCase(),
      tier: rng() < 0.7 ? 'standard' : rng() < 0.7 ? 'gold' : 'platinum',
      joinedAt: timeBetween(rng, Date.UTC(2020, 0, 1), Date.UTC(2023, 11, 31)),
      accountIds: [],
      walletIds: [],
    });
  }

  for (let a = 1; a <= ACCOUNT_COUNT; a++) {
    const owner = a <= MEMBER_COUNT ? a : intBetween(rng, 1, MEMBER_COUNT);
    const currency = pickCurrency(rng);
    const type = rng() < 0.6 ? 'checking' : rng() < 0.8 ? 'savings' : 'business';
    const acc: Account = {
      id: accountId(a),
      num: a,
      memberId: memberId(owner),
      currency,
      type,
      name: `${type[0].toUpperCase()}${type.slice(1)} ${currency}`,
      openedAt: timeBetween(rng, HISTORY_START, Date.UTC(2025, 5, 30)),
    };
    accounts.set(acc.id, acc);
    members.get(acc.memberId)!.accountIds.push(acc.id);
  }

  for (let w = 1; w <= WALLET_COUNT; w++) {
    const owner = members.get(memberId(w))!;
    const wallet: Wallet = {
      id: walletId(w),
      memberId: owner.id,
      name: `${owner.name.split(' ')[0]}'s wallet`,
      createdAt: timeBetween(rng, owner.joinedAt, Date.UTC(2024, 0, 1)),
      accountIds: owner.accountIds.slice(),
    };
    wallets.set(wallet.id, wallet);
    owner.walletIds.push(wallet.id);
  }

  const { hierarchies, hierarchyOfAccount } = createHierarchies(rng, accounts);
  return { seed, members, accounts, wallets, hierarchies, hierarchyOfAccount };
}

const SMALL_HIERARCHY_CURRENCIES: Currency[] = ['USD', 'EUR', 'GBP', 'JPY', 'USD', 'EUR'];

function createHierarchies(rng: Rng, accounts: Map<string, Account>) {
  const hierarchies = new Map<string, HierarchyDef>();
  const hierarchyOfAccount = new Map<string, string>();
  const byCurrency = new Map<Currency, string[]>();
  for (const acc of accounts.values()) {
    const list = byCurrency.get(acc.currency) ?? [];
    list.push(acc.id);
    byCurrency.set(acc.currency, list);
  }
  SMALL_HIERARCHY_CURRENCIES.forEach((currency, i) => {
    const id = `H-${pad(i + 1, 4)}`;
    const pool = (byCurrency.get(currency) ?? []).filter((a) => !hierarchyOfAccount.has(a));
    const size = Math.min(pool.length, intBetween(rng, 20, 60));
    const start = Math.floor(rng() * Math.max(1, pool.length - size));
    const chosen = pool.slice(start, start + size);
    const branchCount = intBetween(rng, 2, 5);
    const branches: HierarchyBranch[] = Array.from({ length: branchCount }, (_, b) => ({
      id: `N-${pad(i + 1, 4)}-${pad(b + 1, 2)}`,
      name: `Cost centre ${b + 1}`,
      accountIds: [],
    }));
    chosen.forEach((a, k) => {
      branches[k % branchCount].accountIds!.push(a);
      hierarchyOfAccount.set(a, id);
    });
    hierarchies.set(id, { id, name: `Group ${i + 1} (${currency})`, currency, accountCount: chosen.length, branches });
  });
  const bigBranches: HierarchyBranch[] = Array.from({ length: BIG_BRANCHES }, (_, b) => ({
    id: `N-BIG-${pad(b + 1, 3)}`,
    name: `Region ${b + 1}`,
    leafStart: b * BIG_LEAVES_PER_BRANCH,
    leafCount: BIG_LEAVES_PER_BRANCH,
  }));
  hierarchies.set(BIG_HIERARCHY_ID, {
    id: BIG_HIERARCHY_ID,
    name: 'Enterprise group (200,000 accounts)',
    currency: 'USD',
    accountCount: BIG_BRANCHES * BIG_LEAVES_PER_BRANCH,
    branches: bigBranches,
  });
  return { hierarchies, hierarchyOfAccount };
}

/** An account's historical transactions, oldest first, generated from its own PRNG stream. */
export function generateHistory(seed: number, acc: Account): { txns: Txn[]; holds: Hold[] } {
  const rng = mulberry32(mixSeed(seed, 0x7a, acc.num));
  const count = intBetween(rng, 10, 80);
  const times: number[] = [acc.openedAt];
  for (let i = 1; i < count; i++) times.push(timeBetween(rng, acc.openedAt + 60_000, HISTORY_END));
  times.sort((a, b) => a - b);
  const txns: Txn[] = [];
  let balance = 0;
  for (let i = 0; i < count; i++) {
    const credit = i === 0 || balance === 0 || rng() < 0.45;
    let minor: number;
    if (credit) {
      minor = amountMinor(rng, acc.currency, i === 0 ? 20_000 : 3_000);
      balance += minor;
    } else {
      minor = Math.max(1, Math.min(balance, amountMinor(rng, acc.currency, 1_500)));
      balance -= minor;
    }
    txns.push({
      id: `T-${pad(acc.num, 6)}-${pad(i + 1, 4)}`,
      accountId: acc.id,
      type: credit ? 'credit' : 'debit',
      amountMinor: minor,
      currency: acc.currency,
      description: pick(rng, credit ? CREDIT_TEXT : DEBIT_TEXT),
      postedAt: times[i],
    });
  }
  const holdCount = intBetween(rng, 0, 3);
  const holds: Hold[] = [];
  for (let h = 0; h < holdCount && balance > 10; h++) {
    holds.push({
      id: `HD-${pad(acc.num, 6)}-${h + 1}`,
      accountId: acc.id,
      amountMinor: Math.max(1, Math.floor((balance / 10) * rng())),
      currency: acc.currency,
      reason: pick(rng, HOLD_TEXT),
      createdAt: timeBetween(rng, Date.UTC(2025, 11, 1), HISTORY_END),
      expiresAt: timeBetween(rng, Date.UTC(2027, 0, 1), Date.UTC(2027, 11, 31)),
    });
  }
  return { txns, holds };
}

/**
 * The balance of one generated leaf account of the big hierarchy: the sum of its own
 * generated postings (4..8 of them). Computed on every call, never stored.
 */
export function bigLeafBalance(seed: number, leafIndex: number): number {
  const rng = mulberry32(mixSeed(seed, 0xb16, leafIndex));
  const n = 4 + Math.floor(rng() * 5);
  let balance = 0;
  for (let i = 0; i < n; i++) {
    const minor = 100 + Math.floor(rng() * 250_000);
    if (i === 0 || rng() < 0.6) balance += minor;
    else balance -= Math.min(balance, minor);
  }
  return balance;
}
