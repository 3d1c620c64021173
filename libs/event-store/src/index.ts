export * from './types';
export { uuidV5Namespace } from './deterministic-id';
export * from './errors';
export { categoryOf, validateAppend } from './append-input';
export { DEFAULT_MAX_EVENT_BYTES } from './encode-events';
export { runMigrations, actAsSchemaOwner, MigrationError, type Migration, type RunMigrationsOptions, type RunMigrationsResult } from './migrations';
export { assertIdentifier, quoteIdentifier } from './identifiers';
export {
  createPostgresEventStore,
  type PostgresEventStore,
  type PostgresEventStoreOptions,
  type StreamAppend,
} from './postgres/postgres-event-store';
export type { AppendStatement } from './postgres/append';
export { boundParameters, type BindParameter } from './postgres/parameters';
export { TRACE_METADATA_KEY, setAppendMetadataHook, traceCarrierOf, type AppendMetadataHook } from './append-metadata';
export { observeAppends, type AppendObserver } from './observe-appends';
