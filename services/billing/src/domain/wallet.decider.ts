/**
 * The wallet aggregate as one Decider (`wallet-<providerId>`): top-ups, charges and
 * refunds decided on the wallet and on what was decided before for the same (lead,
 * provider) or idempotency key — the records `billing.charges` and `billing.top_ups` keep.
 * A loader reads only the records a command needs (see application/wallet-ledger.ts);
 * folding the stream rebuilds them all. The rules themselves are in wallet.ts.
 */
import type { Decider } from '@fairlead/event-sourcing';
import type { Actor } from '@fairlead/contracts';
import { IdempotencyKeyReusedError, ProviderNotFoundError } from './errors';
import { eventIds } from './ids';
import {
  answersCharge,
  chargeRecordOf,
  decideCharge,
  decideRefund,
  decideTopUp,
  evolveWallet,
  openWallet,
  type ChargeCommand,
  type ChargeRecord,
  type Wallet,
  type WalletEvent,
} from './wallet';

/** A top-up named by an idempotency key: what it was, so a repeat is told from a reuse. */
export interface TopUpRecord {
  amount_cents: number;
  reference: string;
}

export interface WalletState {
  /** Null: no wallet (the provider is not registered). */
  wallet: Wallet | null;
  /** The charge decisions known, by lead (the wallet's provider). */
  charges: ReadonlyMap<string, ChargeRecord>;
  /** The keyed top-ups known, by idempotency key. */
  topUps: ReadonlyMap<string, TopUpRecord>;
}

export type WalletCommand =
  | { type: 'top_up'; provider_id: string; amount_cents: number; reference: string; idempotency_key?: string | undefined; actor: Actor }
  | ({ type: 'charge' } & ChargeCommand)
  | { type: 'refund'; provider_id: string; lead_id: string; reason: string; actor: Actor };

/** A wallet event as decided: its deterministic id where it has one, and its own metadata (a top-up's idempotency key). */
export type DecidedWalletEvent = WalletEvent & { id?: string; metadata?: Record<string, unknown> };

export const emptyWalletState = (wallet: Wallet | null = null): WalletState => ({ wallet, charges: new Map(), topUps: new Map() });

/** The charge event of one charge command on the state, or undefined when a recorded decision answers it (a repeat). */
export function decideChargeOn(state: WalletState & { wallet: Wallet }, command: ChargeCommand): DecidedWalletEvent | undefined {
  const earlier = state.charges.get(command.lead_id);
  if (earlier && answersCharge(earlier, command.level_id)) return undefined;
  const event = decideCharge(command, state.wallet);
  // A decision after a decline at another level is a fact of its own (one per level).
  const id = earlier ? eventIds.chargeAtLevel(command.lead_id, command.provider_id, command.level_id) : eventIds.charge(command.lead_id, command.provider_id);
  return { ...event, id };
}

function decide(command: WalletCommand, state: WalletState): DecidedWalletEvent[] {
  const { wallet } = state;
  if (!wallet) throw new ProviderNotFoundError(command.provider_id);
  switch (command.type) {
    case 'top_up': {
      const key = command.idempotency_key;
      if (key === undefined) return [decideTopUp(command, wallet)];
      const earlier = state.topUps.get(key);
      if (earlier) {
        if (earlier.amount_cents !== command.amount_cents || earlier.reference !== command.reference) throw new IdempotencyKeyReusedError(command.provider_id, key);
        return [];
      }
      return [{ ...decideTopUp(command, wallet), id: eventIds.topUp(command.provider_id, key), metadata: { idempotency_key: key } }];
    }
    case 'charge': {
      const event = decideChargeOn({ ...state, wallet }, command);
      return event ? [event] : [];
    }
    case 'refund':
      return [{ ...decideRefund(command, wallet, state.charges.get(command.lead_id)), id: eventIds.refund(command.lead_id, command.provider_id) }];
  }
}

function evolve(state: WalletState, event: DecidedWalletEvent): WalletState {
  const before = state.wallet ?? openWallet(event.data.provider_id);
  const wallet = evolveWallet(before, event, before.version + 1);
  switch (event.type) {
    case 'WalletToppedUp': {
      const key = event.metadata?.idempotency_key;
      if (typeof key !== 'string') return { ...state, wallet };
      return { ...state, wallet, topUps: new Map(state.topUps).set(key, { amount_cents: event.data.amount_cents, reference: event.data.reference }) };
    }
    case 'WalletCharged':
    case 'WalletChargeDeclined':
      return { ...state, wallet, charges: new Map(state.charges).set(event.data.lead_id, chargeRecordOf(event)) };
    case 'WalletRefunded': {
      const charge = state.charges.get(event.data.lead_id);
      return { ...state, wallet, charges: charge ? new Map(state.charges).set(event.data.lead_id, { ...charge, refunded: true }) : state.charges };
    }
  }
}

export const walletDecider: Decider<WalletCommand, DecidedWalletEvent, WalletState> = {
  initialState: () => emptyWalletState(),
  evolve,
  decide,
};
