export { foldEvents, type Decider, type DomainEvent, type Workflow } from './decider';
export {
  handleCommand,
  inTransaction,
  loadStream,
  type CommandHandlingDeps,
  type CommandOutcome,
  type HandleCommandOptions,
  type LoadContext,
  type Loaded,
} from './handle-command';
export { advisoryKeySql, advisoryLock, handOverSessionLockSql, KeyedMutex, noLock, releaseSessionLock, rowLock, Semaphore, type LockStrategy, type SessionLock } from './locks';
export { isTooManyConflictsError, TooManyConflictsError } from './errors';
export {
  handleCommandOnStreams,
  type HandleStreamsOptions,
  type OneStatementPath,
  type StreamsDecision,
  type StreamsLoadContext,
  type StreamsOutcome,
} from './handle-streams';
export { retryOnConflict, isConflict, type RetryOnConflictOptions } from './retry';
