/**
 * Providers: register (which opens the wallet, in the same transaction), update, read.
 * Load the provider's stream, decide, append with the version decided on; a concurrent
 * write makes us re-read and re-decide, a bounded number of times.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { parseDistributionEvent, streams, type billingCommands, type CommandReply } from '@fairlead/contracts';
import { isConcurrencyError, type PostgresEventStore } from '@fairlead/event-store';
import type { z } from 'zod';
import { ProviderNotFoundError } from '../domain/errors';
import { eventIds } from '../domain/ids';
import { decideProvider, evolveProvider, PROVIDER_EVENT_TYPES, type Provider, type ProviderCommand, type ProviderEvent, type ProviderState } from '../domain/provider';
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

export async function loadProvider(store: PostgresEventStore, providerId: string): Promise<ProviderState> {
  let state: ProviderState = null;
  for (const e of await store.readStream(streams.provider(providerId))) {
    if (!PROVIDER_EVENT_TYPES.has(e.type)) continue;
    const type = e.type as ProviderEvent['type'];
    state = evolveProvider(state, { type, data: parseDistributionEvent(type, e.data) } as ProviderEvent, e.streamVersion);
  }
  return state;
}

export function createProviderCommands(deps: ProviderCommandsDeps): ProviderCommands {
  const { pool, store, ledger } = deps;
  const newId = deps.newId ?? randomUUID;
  const maxConflicts = deps.maxConflicts ?? 5;

  const toReply = async (provider: Provider): Promise<ProviderReply> => {
    const wallet = await ledger.read(pool, provider.provider_id);
    return { provider_id: provider.provider_id, name: provider.name, email: provider.email, balance_cents: wallet?.balance_cents ?? 0, version: provider.version };
  };

  async function execute(command: ProviderCommand): Promise<Provider> {
    const stream = streams.provider(command.provider_id);
    for (let conflicts = 0; ; conflicts++) {
      const state = await loadProvider(store, command.provider_id);
      const events = decideProvider(command, state);
      if (events.length === 0) {
        if (!state) throw new ProviderNotFoundError(command.provider_id);
        return state;
      }
      const tx = await pool.connect();
      let broken: Error | undefined;
      try {
        await tx.query('begin');
        await store.appendInTransaction(
          tx,
          stream,
          events.map((e) => ({ id: e.type === 'ProviderRegistered' ? eventIds.providerRegistered(e.data.provider_id) : newId(), type: e.type, data: e.data, metadata: { actor: command.actor } })),
          state ? state.version : 'no_stream',
        );
        if (command.type === 'register_provider') await openWalletRow(tx, command.provider_id);
        await tx.query('commit');
      } catch (error) {
        await tx.query('rollback').catch((rollbackError: Error) => (broken = rollbackError));
        if (isConcurrencyError(error) && conflicts < maxConflicts) continue;
        throw error;
      } finally {
        tx.release(broken);
      }
      let next = state;
      events.forEach((e, i) => (next = evolveProvider(next, e, (state?.version ?? -1) + 1 + i)));
      return next!;
    }
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
