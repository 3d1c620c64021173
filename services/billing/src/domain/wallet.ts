/**
 * The wallet aggregate (`wallet-<providerId>`): a provider's balance in cents. The
 * balance never goes below zero; each (lead, provider) is charged at most once, and a
 * charge taken is refunded at most once. A declined charge binds its level only: asked
 * again for the same lead at another level (another price), the wallet decides again on its
 * balance then (a provider who cannot afford Gold may afford Bronze). Decisions need the wallet and, for charges and
 * refunds, what was already decided for that (lead, provider).
 */
import { MONEY_LIMITS, type Actor, type DistributionEventData } from '@fairlead/contracts';
import { AlreadyRefundedError, BalanceLimitExceededError, ChargeNotFoundError, NothingToRefundError } from './errors';
import { eventIds } from './ids';

export interface Wallet {
  provider_id: string;
  balance_cents: number;
  /** Version of the wallet stream; -1 while it has no event (a wallet just opened). */
  version: number;
}

/** What was decided for one (lead, provider): the idempotency record of charges. */
export interface ChargeRecord {
  lead_id: string;
  provider_id: string;
  /** The level of the latest decision (a decline at one level may be followed by one at another). */
  level_id: string;
  charged: boolean;
  amount_cents: number;
  /** After the charge when charged; the balance that was short when declined. */
  balance_cents: number;
  refunded: boolean;
}

export type WalletEvent =
  | { type: 'WalletToppedUp'; data: DistributionEventData<'WalletToppedUp'> }
  | { type: 'WalletCharged'; data: DistributionEventData<'WalletCharged'> }
  | { type: 'WalletChargeDeclined'; data: DistributionEventData<'WalletChargeDeclined'> }
  | { type: 'WalletRefunded'; data: DistributionEventData<'WalletRefunded'> };

export const WALLET_EVENT_TYPES: ReadonlySet<string> = new Set(['WalletToppedUp', 'WalletCharged', 'WalletChargeDeclined', 'WalletRefunded']);

export const openWallet = (providerId: string): Wallet => ({ provider_id: providerId, balance_cents: 0, version: -1 });

export function evolveWallet(wallet: Wallet, event: WalletEvent, version: number): Wallet {
  switch (event.type) {
    case 'WalletToppedUp':
    case 'WalletCharged':
    case 'WalletRefunded':
      return { ...wallet, balance_cents: event.data.balance_after_cents, version };
    case 'WalletChargeDeclined':
      return { ...wallet, version };
  }
}

export interface ChargeCommand {
  provider_id: string;
  lead_id: string;
  subscription_id: string;
  level_id: string;
  amount_cents: number;
}

/** Charged when the balance covers the amount, else declined; the caller has checked there is no earlier decision. */
export function decideCharge(command: ChargeCommand, wallet: Wallet): Extract<WalletEvent, { type: 'WalletCharged' | 'WalletChargeDeclined' }> {
  const { provider_id, lead_id, subscription_id, level_id, amount_cents } = command;
  if (amount_cents <= wallet.balance_cents) {
    return { type: 'WalletCharged', data: { provider_id, lead_id, subscription_id, level_id, amount_cents, balance_after_cents: wallet.balance_cents - amount_cents } };
  }
  return {
    type: 'WalletChargeDeclined',
    data: { provider_id, lead_id, subscription_id, level_id, amount_cents, balance_cents: wallet.balance_cents, reason: 'insufficient_balance' },
  };
}

/** A charge decision as the batch decides it: its deterministic id and the lead and subscription it was for (its metadata). */
export type BatchChargeEvent = Extract<WalletEvent, { type: 'WalletCharged' | 'WalletChargeDeclined' }> & { id: string; metadata: { lead_id: string; subscription_id: string } };

/** What became of one charge of a batch, in request order. */
export type BatchChargeOutcome =
  | { kind: 'decided'; charge: ChargeCommand; record: ChargeRecord }
  /** Stopped: an earlier lead's charge was declined (stopAtFirstDecline). */
  | { kind: 'not_attempted'; charge: ChargeCommand }
  /** No wallet: the provider is not registered. */
  | { kind: 'no_wallet'; charge: ChargeCommand };

export interface ChargeBatchDecision {
  /** The new decisions per provider, in order (repeats answered from their record add none). */
  events: ReadonlyMap<string, readonly BatchChargeEvent[]>;
  outcomes: BatchChargeOutcome[];
}

/** The key of a (lead, provider) in the records a batch decides on. */
export const chargeKey = (leadId: string, providerId: string) => `${leadId}\u0000${providerId}`;

/**
 * The charges of a batch, decided in the order given, each as `decideCharge` decides it on
 * the balance the charges before it left (a provider may be charged for several leads). A
 * recorded decision that answers a charge (answersCharge) is its answer, and adds no event.
 * With `stopAtFirstDecline`, once a charge is declined (or a decline is its answer) the
 * charges of every other lead after it are not attempted — that lead's own still are.
 * `wallets`: the providers' wallets (a provider without one gets `no_wallet`); `known`: the
 * recorded decisions by chargeKey.
 */
export function decideChargeBatch(
  charges: readonly ChargeCommand[],
  options: { stopAtFirstDecline: boolean },
  wallets: ReadonlyMap<string, Wallet>,
  known: ReadonlyMap<string, ChargeRecord>,
): ChargeBatchDecision {
  const balances = new Map(wallets);
  const records = new Map(known);
  const events = new Map<string, BatchChargeEvent[]>();
  let declinedLead: string | undefined;
  const outcomes = charges.map((charge): BatchChargeOutcome => {
    if (declinedLead !== undefined && charge.lead_id !== declinedLead) return { kind: 'not_attempted', charge };
    const wallet = balances.get(charge.provider_id);
    if (!wallet) return { kind: 'no_wallet', charge };
    const key = chargeKey(charge.lead_id, charge.provider_id);
    let record = records.get(key);
    if (!record || !answersCharge(record, charge.level_id)) {
      const event = decideCharge(charge, wallet);
      // A decision after a decline at another level is a fact of its own (one per level).
      const id = record ? eventIds.chargeAtLevel(charge.lead_id, charge.provider_id, charge.level_id) : eventIds.charge(charge.lead_id, charge.provider_id);
      const decided = events.get(charge.provider_id) ?? [];
      decided.push({ ...event, id, metadata: { lead_id: charge.lead_id, subscription_id: charge.subscription_id } });
      events.set(charge.provider_id, decided);
      balances.set(charge.provider_id, evolveWallet(wallet, event, wallet.version + 1));
      record = chargeRecordOf(event);
      records.set(key, record);
    }
    if (!record.charged && options.stopAtFirstDecline) declinedLead ??= charge.lead_id;
    return { kind: 'decided', charge, record };
  });
  return { events, outcomes };
}

/**
 * Whether a recorded decision answers a charge request as a repeat: a charge taken answers
 * every later request for the (lead, provider) — it is charged at most once — and a decline
 * answers requests for its own level; a request for another level is decided anew.
 */
export function answersCharge(record: ChargeRecord, levelId: string): boolean {
  return record.charged || record.level_id === levelId;
}

/** The idempotency record a charge decision leaves. */
export function chargeRecordOf(event: Extract<WalletEvent, { type: 'WalletCharged' | 'WalletChargeDeclined' }>): ChargeRecord {
  const d = event.data;
  return event.type === 'WalletCharged'
    ? { lead_id: d.lead_id, provider_id: d.provider_id, level_id: d.level_id, charged: true, amount_cents: d.amount_cents, balance_cents: event.data.balance_after_cents, refunded: false }
    : { lead_id: d.lead_id, provider_id: d.provider_id, level_id: d.level_id, charged: false, amount_cents: d.amount_cents, balance_cents: event.data.balance_cents, refunded: false };
}

/**
 * The balance after adding `amount`, refused past MONEY_LIMITS.maxBalanceCents. Within the
 * limits every sum is an exact integer (MONEY_LIMITS keeps balance + movement < 2^53).
 */
function credited(wallet: Wallet, amount: number): number {
  const after = wallet.balance_cents + amount;
  if (after > MONEY_LIMITS.maxBalanceCents) throw new BalanceLimitExceededError(wallet.provider_id, wallet.balance_cents, amount, MONEY_LIMITS.maxBalanceCents);
  return after;
}

export function decideTopUp(command: { amount_cents: number; reference: string; actor: Actor }, wallet: Wallet): Extract<WalletEvent, { type: 'WalletToppedUp' }> {
  return {
    type: 'WalletToppedUp',
    data: {
      provider_id: wallet.provider_id,
      amount_cents: command.amount_cents,
      balance_after_cents: credited(wallet, command.amount_cents),
      reference: command.reference,
      actor: command.actor,
    },
  };
}

/** Gives a taken charge back, once. */
export function decideRefund(
  command: { lead_id: string; reason: string; actor: Actor },
  wallet: Wallet,
  charge: ChargeRecord | undefined,
): Extract<WalletEvent, { type: 'WalletRefunded' }> {
  if (!charge?.charged) throw new ChargeNotFoundError(command.lead_id, wallet.provider_id);
  if (charge.refunded) throw new AlreadyRefundedError(command.lead_id, wallet.provider_id);
  if (charge.amount_cents === 0) throw new NothingToRefundError(command.lead_id, wallet.provider_id);
  return {
    type: 'WalletRefunded',
    data: {
      provider_id: wallet.provider_id,
      lead_id: command.lead_id,
      amount_cents: charge.amount_cents,
      balance_after_cents: credited(wallet, charge.amount_cents),
      reason: command.reason,
      actor: command.actor,
    },
  };
}
