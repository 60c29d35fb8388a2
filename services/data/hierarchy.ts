/**
 * Hierarchy balances: the total of every account under a hierarchy, with a subtotal per
 * direct child (branch). Two ways to compute the same numbers:
 *  - `aggregateFull` (legacy): one simulated database query per branch, in sequence, then a
 *    walk over every account; slow on the 200,000-account hierarchy, on every call;
 *  - `aggregateInParts` (V2): branches grouped in parts whose queries run at once, each
 *    part summed between event-loop turns.
 */
import { bigLeafBalance, bigLeafId, type HierarchyBranch, type HierarchyDef } from './dataset.js';
import type { Ledger } from './ledger.js';

export interface BranchTotal {
  id: string;
  name: string;
  balanceMinor: number;
  accountCount: number;
}

export interface AccountBalance {
  id: string;
  branchId: string;
  balanceMinor: number;
}

export interface HierarchyTotal {
  hierarchyId: string;
  name: string;
  currency: HierarchyDef['currency'];
  balanceMinor: number;
  accountCount: number;
  children: BranchTotal[];
  /** Every account's balance, only when asked for (`?detail=accounts`): 200,000 on H-BIG. */
  accounts?: AccountBalance[];
  computedAt: number;
}

export interface AggregateOptions {
  /** Simulated round trip of one database query, ms. */
  queryDelayMs: number;
  /** Also list every account's balance. */
  withAccounts?: boolean;
}

export const DEFAULT_QUERY_DELAY_MS = 2;
const PART_SIZE = 50;

const sleep = (ms: number) => new Promise<void>((r) => (ms > 0 ? setTimeout(r, ms) : setImmediate(r)));

export function hierarchyDef(ledger: Ledger, id: string): HierarchyDef | undefined {
  return ledger.data.hierarchies.get(id);
}

/**
 * The subtotal of one branch: every account's balance summed (big leaves regenerated each
 * time). With `into`, each account's balance is appended to it as well.
 */
export function branchTotal(ledger: Ledger, branch: HierarchyBranch, into?: AccountBalance[]): BranchTotal {
  let balanceMinor = 0;
  let accountCount = 0;
  if (branch.accountIds) {
    for (const a of branch.accountIds) {
      const b = ledger.balanceMinor(a);
      balanceMinor += b;
      accountCount++;
      into?.push({ id: a, branchId: branch.id, balanceMinor: b });
    }
  } else {
    const seed = ledger.data.seed;
    const end = branch.leafStart! + branch.leafCount!;
    for (let i = branch.leafStart!; i < end; i++) {
      const b = bigLeafBalance(seed, i);
      balanceMinor += b;
      accountCount++;
      into?.push({ id: bigLeafId(i), branchId: branch.id, balanceMinor: b });
    }
  }
  return { id: branch.id, name: branch.name, balanceMinor, accountCount };
}

function total(def: HierarchyDef, children: BranchTotal[], accounts: AccountBalance[] | undefined, computedAt: number): HierarchyTotal {
  let balanceMinor = 0;
  let accountCount = 0;
  for (const c of children) {
    balanceMinor += c.balanceMinor;
    accountCount += c.accountCount;
  }
  const t: HierarchyTotal = { hierarchyId: def.id, name: def.name, currency: def.currency, balanceMinor, accountCount, children, computedAt };
  if (accounts) t.accounts = accounts;
  return t;
}

export async function aggregateFull(ledger: Ledger, def: HierarchyDef, opts: AggregateOptions): Promise<HierarchyTotal> {
  const children: BranchTotal[] = [];
  const accounts = opts.withAccounts ? [] : undefined;
  for (const branch of def.branches) {
    await sleep(opts.queryDelayMs);
    children.push(branchTotal(ledger, branch, accounts));
  }
  return total(def, children, accounts, Date.now());
}

export async function aggregateInParts(ledger: Ledger, def: HierarchyDef, opts: AggregateOptions): Promise<HierarchyTotal> {
  const parts: HierarchyBranch[][] = [];
  for (let i = 0; i < def.branches.length; i += PART_SIZE) parts.push(def.branches.slice(i, i + PART_SIZE));
  // every part's query is in flight at once; the sums then run one part per event-loop turn
  const fetched = parts.map((p) => sleep(opts.queryDelayMs).then(() => p));
  const children: BranchTotal[] = [];
  const accounts = opts.withAccounts ? [] : undefined;
  for (const pending of fetched) {
    const part = await pending;
    for (const b of part) children.push(branchTotal(ledger, b, accounts));
    await sleep(0);
  }
  return total(def, children, accounts, Date.now());
}
