/**
 * Money in the demo services: integer minor units internally (a JS safe integer, never a
 * fraction), exact decimal text on the way in and out through shared/decimal.
 * JPY has no minor unit (scale 0); USD, EUR and GBP have cents (scale 2).
 */
import { fromMinorUnits, parseDecimal, toMinorUnits } from '../shared/decimal.js';

export const CURRENCIES = { USD: 2, EUR: 2, GBP: 2, JPY: 0 } as const;
export type Currency = keyof typeof CURRENCIES;

/** Largest amount one posting may carry, in major units (keeps every sum a safe integer). */
export const MAX_POSTING_MAJOR = 1_000_000_000;

export function isCurrency(value: unknown): value is Currency {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(CURRENCIES, value);
}

export function scaleOf(currency: Currency): number {
  return CURRENCIES[currency];
}

/** Fixed-scale decimal text: 1234.5 USD -> "1234.50", 1234 JPY -> "1234". */
export function formatMoney(minor: number, currency: Currency): string {
  return fromMinorUnits(BigInt(minor), scaleOf(currency));
}

/**
 * A JSON number with the same value, as a legacy system writes money. The double nearest to
 * the exact decimal text prints back as that text (amounts stay far below 15 digits).
 */
export function moneyAsNumber(minor: number, currency: Currency): number {
  return Number(formatMoney(minor, currency));
}

export type AmountResult = { ok: true; minor: number } | { ok: false; reason: string };

/** Reads a client amount (JSON number or decimal string) into minor units of `currency`. */
export function parseAmount(value: unknown, currency: Currency): AmountResult {
  if (typeof value !== 'number' && typeof value !== 'string') {
    return { ok: false, reason: 'must be a decimal number or a decimal string such as "12.34"' };
  }
  const d = parseDecimal(value);
  if (!d) return { ok: false, reason: `must be a decimal number such as "12.34", got ${JSON.stringify(value)}` };
  const scale = scaleOf(currency);
  const minor = toMinorUnits(value, scale);
  if (minor === undefined) {
    return {
      ok: false,
      reason: scale === 0 ? `${currency} has no minor unit: send a whole number` : `must have at most ${scale} decimals`,
    };
  }
  if (minor <= 0n) return { ok: false, reason: 'must be greater than 0 (use type debit or credit for the direction)' };
  if (minor > BigInt(MAX_POSTING_MAJOR) * 10n ** BigInt(scale)) {
    return { ok: false, reason: `must be at most ${MAX_POSTING_MAJOR}` };
  }
  return { ok: true, minor: Number(minor) };
}
