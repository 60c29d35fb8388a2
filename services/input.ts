/**
 * Client input rules shared by both services: query parameters and the POST body. Each
 * failure is a 400 naming the field and what to send; nothing is applied on a failure.
 */
import { badRequest, ServiceError, SVC_ERR } from './errors.js';
import { CURRENCIES, isCurrency, parseAmount } from './money.js';
import type { Ledger, PostingInput } from './data/ledger.js';

export const DEFAULT_PAGE_LIMIT = 20;
export const MAX_PAGE_LIMIT = 100;

export function parseLimit(raw: unknown): number {
  if (raw === undefined) return DEFAULT_PAGE_LIMIT;
  if (typeof raw !== 'string' || !/^\d{1,6}$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_PAGE_LIMIT) {
    throw badRequest('limit', `must be a whole number from 1 to ${MAX_PAGE_LIMIT}, got ${JSON.stringify(raw)}`);
  }
  return Number(raw);
}

export function parseCursor(raw: unknown): string | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || raw.length === 0) {
    throw badRequest('cursor', 'must be the nextCursor value of the previous page, given once');
  }
  return raw;
}

/** `?detail=accounts` lists every account of a hierarchy; absent means subtotals only. */
export function parseDetail(raw: unknown): boolean {
  if (raw === undefined) return false;
  if (raw === 'accounts') return true;
  throw badRequest('detail', `must be "accounts" (list every account) or left out, got ${JSON.stringify(raw)}`);
}

const KEY_RE = /^[\x21-\x7e]{1,200}$/;

/** Reads and checks a posting. Every problem is reported at once, each naming its field. */
export function parsePosting(ledger: Ledger, body: unknown, idempotencyKey: unknown): PostingInput {
  if (idempotencyKey === undefined || idempotencyKey === '') {
    throw badRequest('Idempotency-Key', 'header is required: send a unique value per posting (a UUID) and reuse it only to retry that posting');
  }
  if (typeof idempotencyKey !== 'string' || !KEY_RE.test(idempotencyKey)) {
    throw badRequest('Idempotency-Key', 'must be 1..200 visible ASCII characters, sent once');
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw badRequest('body', 'must be a JSON object { accountId, type, amount, currency, description? }');
  }
  const b = body as Record<string, unknown>;
  const problems: string[] = [];
  let account: ReturnType<Ledger['account']> | undefined;
  if (typeof b.accountId !== 'string' || b.accountId === '') problems.push('accountId: is required (an account id such as A-000123)');
  else if (!ledger.data.accounts.has(b.accountId)) problems.push(`accountId: account ${b.accountId} does not exist`);
  else account = ledger.account(b.accountId);

  if (b.type !== 'credit' && b.type !== 'debit') problems.push(`type: must be "credit" or "debit", got ${JSON.stringify(b.type ?? null)}`);

  let currencyOk = false;
  if (b.currency === undefined) problems.push('currency: is required (the account currency)');
  else if (!isCurrency(b.currency)) problems.push(`currency: ${JSON.stringify(b.currency)} is not a known currency (one of ${Object.keys(CURRENCIES).join(', ')})`);
  else if (account && account.currency !== b.currency) problems.push(`currency: account ${account.id} holds ${account.currency}, not ${b.currency}`);
  else currencyOk = true;

  let amountMinor = 0;
  if (b.amount === undefined) problems.push('amount: is required (a decimal such as "12.34")');
  else {
    // with an unusable currency the amount is still checked against two decimals
    const r = parseAmount(b.amount, currencyOk ? (b.currency as keyof typeof CURRENCIES) : 'USD');
    if (r.ok) amountMinor = r.minor;
    else problems.push(`amount: ${r.reason}`);
  }

  if (b.description !== undefined && (typeof b.description !== 'string' || b.description.length > 200)) {
    problems.push('description: must be a string of at most 200 characters');
  }
  const extra = Object.keys(b).filter((k) => !['accountId', 'type', 'amount', 'currency', 'description'].includes(k));
  if (extra.length > 0) problems.push(`${extra.join(', ')}: unknown field${extra.length > 1 ? 's' : ''} (send accountId, type, amount, currency, description)`);

  if (problems.length > 0) throw new ServiceError(400, SVC_ERR.BAD_REQUEST, problems.join('; '));
  return {
    accountId: account!.id,
    type: b.type as PostingInput['type'],
    amountMinor,
    currency: account!.currency,
    description: (b.description as string | undefined) ?? '',
    idempotencyKey,
  };
}
