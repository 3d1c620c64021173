/**
 * The bounds of everything that crosses a boundary: money, counts and the size of a lead.
 * Every schema of a command, an HTTP body or an event takes its bounds from here, and a
 * test (tests/distribution/column-bounds.int.test.ts) checks that every column of every
 * read model can hold what these schemas accept. docs/limits.md explains the choices.
 */
import { z } from 'zod';

/**
 * Money is integer cents. The bounds keep every sum billing computes (a balance plus a
 * top-up or a refund) far below 2^53, so it is exact in a JavaScript number, and every
 * amount fits a PostgreSQL `bigint`.
 */
export const MONEY_LIMITS = Object.freeze({
  /** A level's price per lead, and so any one charge or refund: $1,000,000. */
  maxPriceCents: 100_000_000,
  /** One top-up: $1,000,000. */
  maxTopUpCents: 100_000_000,
  /** A wallet's balance: $10,000,000,000. A top-up or refund that would pass it is refused. */
  maxBalanceCents: 1_000_000_000_000,
});

/** Counts an operator configures. */
export const COUNT_LIMITS = Object.freeze({
  /** Providers assigned per level and lead. */
  maxRecipients: 1_000,
  /** Levels per niche (a level's order position). */
  maxOrderPosition: 1_000,
  /** A subscription's daily or monthly cap. */
  maxCap: 1_000_000,
  /** Rounds of one level for one lead (a new round follows each declined charge). */
  maxRounds: 1_000_000,
});

/**
 * The largest `lead.approved` intake accepts (defaults; intake's LEAD_MAX_BYTES and
 * LEAD_MAX_DEPTH change them). Checked before anything is stored.
 */
export const LEAD_LIMITS = Object.freeze({
  /** UTF-8 bytes of the message as received. */
  maxBytes: 64 * 1024,
  /** Nesting of objects and arrays (the message itself is depth 1). */
  maxDepth: 32,
});

// Sums of two bounded amounts must stay exact: checked once, here, not per operation.
if (MONEY_LIMITS.maxBalanceCents + Math.max(MONEY_LIMITS.maxTopUpCents, MONEY_LIMITS.maxPriceCents) > Number.MAX_SAFE_INTEGER) {
  throw new Error('MONEY_LIMITS must keep a balance plus a movement below Number.MAX_SAFE_INTEGER');
}

/** Any amount of money a wallet may hold (0 … maxBalanceCents). */
export const Cents = z.number().int().min(0).max(MONEY_LIMITS.maxBalanceCents);
export const PositiveCents = z.number().int().min(1).max(MONEY_LIMITS.maxBalanceCents);
/** A wallet's balance. */
export const BalanceCents = Cents;
/** A price per lead, a charge or a refund (0 … maxPriceCents). */
export const PriceCents = z.number().int().min(0).max(MONEY_LIMITS.maxPriceCents);
/** One top-up (1 … maxTopUpCents). */
export const TopUpCents = z.number().int().min(1).max(MONEY_LIMITS.maxTopUpCents);
/** A refund gives back one charge (1 … maxPriceCents). */
export const RefundCents = z.number().int().min(1).max(MONEY_LIMITS.maxPriceCents);

export const MaxRecipients = z.number().int().min(1).max(COUNT_LIMITS.maxRecipients);
export const OrderPosition = z.number().int().min(1).max(COUNT_LIMITS.maxOrderPosition);
export const Cap = z.number().int().min(1).max(COUNT_LIMITS.maxCap);

/**
 * The nesting depth of a JSON value (a scalar is 0, `{}` and `[]` are 1), counted without
 * recursion — a hostile value may be nested far deeper than the call stack — and given up
 * as soon as it passes `limit` (then `limit + 1` is returned).
 */
export function jsonDepth(value: unknown, limit = Number.POSITIVE_INFINITY): number {
  let deepest = 0;
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const { value: v, depth } = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    const here = depth + 1;
    if (here > deepest) deepest = here;
    if (deepest > limit) return deepest;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (typeof child === 'object' && child !== null) stack.push({ value: child, depth: here });
    }
  }
  return deepest;
}
