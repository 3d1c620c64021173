import { isConcurrencyError, isEventTooLargeError, isPermanentAppendError, type StoredEvent } from '@fairlead/event-store';
import type { Decider } from '../domain/index';
import { ERROR_CODES, conflict, invalid } from '../domain/index';
import type { WorkflowContext } from './context';

export interface Executed<S, E> {
  /** State after the decided events. */
  state: S;
  /** Events appended (empty when the decision was a no-op). */
  events: E[];
  /** The stream's version after the command; undefined when the stream does not exist. */
  version: number | undefined;
}

type DomainEvent = { type: string; data: unknown };

export async function loadAggregate<C, E extends DomainEvent, S>(ctx: WorkflowContext, stream: string, decider: Decider<C, E, S>): Promise<{ state: S; version: number | undefined; events: StoredEvent[] }> {
  const events = await ctx.store.readStream(stream);
  const state = events.reduce((s, e) => decider.evolve(s, { type: e.type, data: e.data } as E), decider.initialState());
  return { state, version: events.at(-1)?.streamVersion, events };
}

/** Decisions on several streams that are stored together or not at all. */
export interface Decisions {
  /**
   * Loads the stream (once per attempt), decides the command on its current state (which
   * includes what this attempt already decided on it) and keeps the events for the one
   * append at the end. A refusal throws and nothing is stored.
   */
  decide<C, E extends DomainEvent, S>(stream: string, decider: Decider<C, E, S>, command: (state: S) => C): Promise<{ state: S; events: E[] }>;
  /** The stream's current state in this attempt, without deciding anything. */
  state<C, E extends DomainEvent, S>(stream: string, decider: Decider<C, E, S>): Promise<S>;
}

interface Pending {
  version: number | undefined;
  state: unknown;
  events: DomainEvent[];
}

/**
 * The one way to handle a command: load, decide, append with the expected version of
 * every stream touched — in one transaction when there are several, so a use case that
 * spans streams (a project's number and its new ticket; a key reservation and its
 * project) is stored whole or not at all. A version conflict means someone appended in
 * between: the whole plan is re-run on fresh state (its decisions may now be refusals),
 * a bounded number of times.
 */
export async function executeTogether<T>(
  ctx: WorkflowContext,
  plan: (decisions: Decisions) => Promise<T>,
  options: { waitForReadModels?: boolean } = {},
): Promise<{ result: T; versions: Map<string, number | undefined> }> {
  const attempts = ctx.maxAttempts ?? 10;
  for (let attempt = 1; ; attempt++) {
    const pending = new Map<string, Pending>();
    const entryOf = async <C, E extends DomainEvent, S>(stream: string, decider: Decider<C, E, S>): Promise<Pending> => {
      let entry = pending.get(stream);
      if (!entry) {
        const { state, version } = await loadAggregate(ctx, stream, decider);
        entry = { version, state, events: [] };
        pending.set(stream, entry);
      }
      return entry;
    };
    const decisions: Decisions = {
      state: async <C, E extends DomainEvent, S>(stream: string, decider: Decider<C, E, S>) => (await entryOf(stream, decider)).state as S,
      decide: async <C, E extends DomainEvent, S>(stream: string, decider: Decider<C, E, S>, command: (state: S) => C) => {
        const entry = await entryOf(stream, decider);
        const state = entry.state as S;
        const events = decider.decide(command(state), state);
        entry.state = events.reduce(decider.evolve, state);
        entry.events.push(...events);
        return { state: entry.state as S, events };
      },
    };
    const result = await plan(decisions);
    const writes = [...pending].filter(([, p]) => p.events.length > 0);
    const versions = new Map<string, number | undefined>([...pending].map(([stream, p]) => [stream, p.version]));
    if (writes.length === 0) return { result, versions };
    const toNew = (events: DomainEvent[]) =>
      events.map((e) => ({ id: ctx.newId(), type: e.type, data: e.data, metadata: { service: 'ticket-workflow', ...(ctx.actor ? { actor: ctx.actor } : {}) } }));
    try {
      if (writes.length === 1) {
        const [stream, p] = writes[0]!;
        versions.set(stream, (await ctx.store.append(stream, toNew(p.events), p.version ?? 'no_stream')).nextExpectedVersion);
      } else {
        const client = await ctx.pool.connect();
        try {
          await client.query('begin');
          const results = await ctx.store.appendManyInTransaction(
            client,
            writes.map(([stream, p]) => ({ stream, events: toNew(p.events), expected: p.version ?? 'no_stream' })),
          );
          await client.query('commit');
          writes.forEach(([stream], i) => versions.set(stream, results[i]!.nextExpectedVersion));
        } catch (error) {
          await client.query('rollback').catch(() => undefined);
          throw error;
        } finally {
          client.release();
        }
      }
    } catch (error) {
      // What the store will never accept (too large, data PostgreSQL refuses) is the caller's input: a clear refusal, nothing stored.
      if (isEventTooLargeError(error)) throw invalid(ERROR_CODES.tooLarge, `what was sent is too large to store (${error.bytes} bytes; at most ${error.maxBytes})`);
      if (isPermanentAppendError(error)) throw invalid(ERROR_CODES.validation, 'what was sent cannot be stored (the event store refused it as data)');
      if (!isConcurrencyError(error)) throw error;
      if (attempt >= attempts) {
        throw conflict(ERROR_CODES.tooManyConflicts, `${writes.map(([s]) => s).join(', ')} kept changing under this command (${attempts} attempts); try again`);
      }
      continue;
    }
    if (options.waitForReadModels !== false) {
      for (const [stream] of writes) await ctx.sync.waitFor(stream, versions.get(stream)!);
    }
    return { result, versions };
  }
}

/** One command on one stream (see executeTogether). */
export async function execute<C, E extends DomainEvent, S>(
  ctx: WorkflowContext,
  stream: string,
  decider: Decider<C, E, S>,
  command: (state: S) => C,
  options: { waitForReadModels?: boolean } = {},
): Promise<Executed<S, E>> {
  const { result, versions } = await executeTogether(ctx, (d) => d.decide(stream, decider, command), options);
  return { ...result, version: versions.get(stream) };
}
