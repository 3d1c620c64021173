/**
 * Providers: register (which opens the wallet, in the same transaction), update, read.
 * Each change is one handleCommand of the provider decider: load the provider's stream,
 * decide, append with the version decided on; a concurrent write makes it re-read and
 * re-decide, a bounded number of times.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { parseDistributionEvent, streams, type billingCommands, type CommandReply } from '@fairlead/contracts';
import { handleCommand, loadStream } from '@fairlead/event-sourcing';
import type { PostgresEventStore, StoredEvent } from '@fairlead/event-store';
import type { z } from 'zod';
import { ProviderNotFoundError } from '../domain/errors';
import { PROVIDER_EVENT_TYPES, type Provider, type ProviderCommand, type ProviderEvent, type ProviderState } from '../domain/provider';
import { providerDecider } from '../domain/provider.decider';
import { openWalletRow, type WalletLedger } from './wallet-ledger';

type Req<V extends keyof typeof billingCommands> = z.output<(typeof billingCommands)[V]['request']>;
export type ProviderReply = CommandReply<'billing', 'get_provider'>;

export interface ProviderCommandsDeps {
  pool: pg.Pool;
  store: PostgresEventStore;
  ledger: WalletLedger;
  newId?: () => string;
  /** Re-reads after a concurrent write before giving up (default 5). */
  maxConflicts?: number;
}

export interface ProviderCommands {
  register(request: Req<'register_provider'>): Promise<ProviderReply>;
  update(request: Req<'update_provider'>): Promise<ProviderReply>;
  get(request: Req<'get_provider'>): Promise<ProviderReply>;
  /** The provider with its balance now; throws PROVIDER_NOT_FOUND. */
  reply(providerId: string): Promise<ProviderReply>;
}

/** A stored provider event, validated against its contract; other events are not the provider's. */
const decodeProviderEvent = (e: StoredEvent): ProviderEvent | undefined =>
  PROVIDER_EVENT_TYPES.has(e.type) ? ({ type: e.type, data: parseDistributionEvent(e.type as ProviderEvent['type'], e.data) } as ProviderEvent) : undefined;

export async function loadProvider(store: PostgresEventStore, providerId: string): Promise<ProviderState> {
  return (await loadStream(store, streams.provider(providerId), providerDecider, decodeProviderEvent)).state;
}

export function createProviderCommands(deps: ProviderCommandsDeps): ProviderCommands {
  const { pool, store, ledger } = deps;
  const newId = deps.newId ?? randomUUID;

  const toReply = async (provider: Provider): Promise<ProviderReply> => {
    const wallet = await ledger.read(pool, provider.provider_id);
    return { provider_id: provider.provider_id, name: provider.name, email: provider.email, balance_cents: wallet?.balance_cents ?? 0, version: provider.version };
  };

  async function execute(command: ProviderCommand): Promise<Provider> {
    const { state } = await handleCommand({ store, pool, newId }, streams.provider(command.provider_id), providerDecider, command, {
      decode: decodeProviderEvent,
      metadata: { actor: command.actor },
      maxConflicts: deps.maxConflicts ?? 5,
      // Registering opens the wallet in the registration's transaction.
      ...(command.type === 'register_provider' ? { alongside: (tx) => openWalletRow(tx, command.provider_id) } : {}),
    });
    if (!state) throw new ProviderNotFoundError(command.provider_id);
    return state;
  }

  const reply = async (providerId: string): Promise<ProviderReply> => {
    const provider = await loadProvider(store, providerId);
    if (!provider) throw new ProviderNotFoundError(providerId);
    return toReply(provider);
  };

  return {
    register: async (r) => toReply(await execute({ type: 'register_provider', provider_id: r.provider_id ?? newId(), name: r.name, email: r.email, actor: r.actor })),
    update: async (r) => toReply(await execute({ type: 'update_provider', ...r })),
    get: (r) => reply(r.provider_id),
    reply,
  };
}
