/**
 * Ticket-workflow's commands on the event-sourcing kernel (`@fairlead/event-sourcing`):
 * each use case is one `execute` — one `handleCommand` on its stream, with the service's
 * metadata, its retry budget and its refusals. A use case that must store more than one
 * stream whole or not at all (a project and its key; a project's number and the new
 * ticket) decides the other streams `alongside`: in the command's transaction, each
 * appended against the version it was decided on, so a race on any of them re-runs the
 * whole command on fresh state.
 */
import { foldEvents, handleCommand, isTooManyConflictsError, loadStream, type CommandOutcome, type Decider, type DomainEvent } from '@fairlead/event-sourcing';
import { isEventTooLargeError, isPermanentAppendError, type StoredEvent } from '@fairlead/event-store';
import type pg from 'pg';
import { ERROR_CODES, conflict, invalid } from '../domain/index';
import type { WorkflowContext } from './context';

export interface Executed<S, E> {
  /** State after the decided events. */
  state: S;
  /** Events appended (empty when the decision was a no-op). */
  events: readonly E[];
  /** The stream's version after the command; undefined when the stream does not exist. */
  version: number | undefined;
}

/** Decisions on other streams, stored in the same transaction as the command's own events. */
export interface Alongside {
  /** Decides `command` on the stream's current state and appends its events (none when it changes nothing); a refusal throws and nothing is stored. */
  decide<C, E extends DomainEvent, S>(stream: string, decider: Decider<C, E, S>, command: C): Promise<readonly E[]>;
}

export interface ExecuteOptions<E, S> {
  /** Wait until the read models have applied the appended events (read-your-writes; default true). */
  waitForReadModels?: boolean;
  /** Decisions on other streams that follow from this command's (it appended something); runs again on every retry. */
  alongside?: (other: Alongside, outcome: CommandOutcome<E, S>) => Promise<void>;
}

/** A stream's state, version and stored events, for reads. */
export async function loadAggregate<C, E extends DomainEvent, S>(ctx: WorkflowContext, stream: string, decider: Decider<C, E, S>): Promise<{ state: S; version: number | undefined; events: StoredEvent[] }> {
  const events = await ctx.store.readStream(stream);
  const state = foldEvents(decider, events.map((e) => ({ type: e.type, data: e.data }) as E));
  return { state, version: events.at(-1)?.streamVersion, events };
}

/**
 * One command on one stream: load, decide, append with the version decided on; a version
 * conflict re-reads and re-decides (it may now be a refusal), up to `ctx.maxAttempts`
 * attempts in all (default 10).
 */
export async function execute<C, E extends DomainEvent, S>(
  ctx: WorkflowContext,
  stream: string,
  decider: Decider<C, E, S>,
  command: C,
  options: ExecuteOptions<E, S> = {},
): Promise<Executed<S, E>> {
  const attempts = ctx.maxAttempts ?? 10;
  const metadata = { service: 'ticket-workflow', ...(ctx.actor ? { actor: ctx.actor } : {}) };
  // The other streams the last attempt wrote, with their versions (an attempt that lost its race starts the list again).
  let written = new Map<string, number>();
  const alongside = options.alongside;
  let outcome: CommandOutcome<E, S>;
  try {
    outcome = await handleCommand({ store: ctx.store, pool: ctx.pool, newId: ctx.newId }, stream, decider, command, {
      maxConflicts: attempts - 1,
      metadata,
      ...(alongside
        ? {
            alongside: async (tx, decided) => {
              written = new Map();
              await alongside(otherStreams(ctx, tx, metadata, written), decided);
            },
          }
        : {}),
    });
  } catch (error) {
    throw refusalOf(error, attempts);
  }
  if (outcome.events.length > 0 && options.waitForReadModels !== false) {
    await ctx.sync.waitFor(stream, outcome.version);
    for (const [other, version] of written) await ctx.sync.waitFor(other, version);
  }
  return { state: outcome.state, events: outcome.events, version: outcome.version === -1 ? undefined : outcome.version };
}

function otherStreams(ctx: WorkflowContext, tx: pg.ClientBase, metadata: Record<string, unknown>, written: Map<string, number>): Alongside {
  return {
    decide: async (stream, decider, command) => {
      const { state, version } = await loadStream(ctx.store, stream, decider);
      const events = decider.decide(command, state);
      if (events.length === 0) return events;
      const stored = events.map((e) => ({ id: ctx.newId(), type: e.type, data: e.data, metadata }));
      const result = await ctx.store.appendInTransaction(tx, stream, stored, version === -1 ? 'no_stream' : version);
      written.set(stream, result.nextExpectedVersion);
      return events;
    },
  };
}

/** What the store will never accept is the caller's input (a clear refusal, nothing stored); a stream that kept changing is a conflict to retry. */
function refusalOf(error: unknown, attempts: number): unknown {
  if (isEventTooLargeError(error)) return invalid(ERROR_CODES.tooLarge, `what was sent is too large to store (${error.bytes} bytes; at most ${error.maxBytes})`);
  if (isPermanentAppendError(error)) return invalid(ERROR_CODES.validation, 'what was sent cannot be stored (the event store refused it as data)');
  if (isTooManyConflictsError(error)) return conflict(ERROR_CODES.tooManyConflicts, `${error.stream} kept changing under this command (${attempts} attempts); try again`);
  return error;
}
