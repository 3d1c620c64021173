import type { AppendResult, EventStore, ExpectedVersion, NewEvent } from '../types';

/** A writer transaction held open by the test, on a connection of its own. */
export interface OpenTransaction {
  append(stream: string, events: readonly NewEvent[], expectedVersion: ExpectedVersion): Promise<AppendResult>;
  commit(): Promise<void>;
  rollback(): Promise<void>;
}

/** Adapter-specific hooks; a test that needs a missing one is skipped. */
export interface EventStoreContractCapabilities {
  /**
   * Begins a transaction that has already taken its transaction id (PostgreSQL:
   * `begin; select pg_current_xact_id()`), so the test can order ids and commits.
   */
  openTransaction?: () => Promise<OpenTransaction>;
  /** Holds a transaction with an id but no events open on another connection until released. */
  holdIdleTransaction?: () => Promise<{ release(): Promise<void> }>;
  /** Checkpoints order events by commit-safe transaction id first (PostgreSQL xid8); enables order assertions. */
  ordersByTransaction?: boolean;
}

/** Makes a store on the adapter's test storage; the suite closes every store it makes. */
export type MakeStore = () => Promise<EventStore> | EventStore;
