import { isConcurrencyError, type StoredEvent } from '@fairlead/event-store';
import type { Decider } from '../domain/index';
import { ERROR_CODES, conflict } from '../domain/index';
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

/**
 * Load, decide, append with the expected version. A version conflict means someone
 * appended in between: re-read and re-decide (the decision may now be a refusal), a
 * bounded number of times.
 */
export async function execute<C, E extends DomainEvent, S>(
  ctx: WorkflowContext,
  stream: string,
  decider: Decider<C, E, S>,
  command: (state: S) => C,
  options: { waitForReadModels?: boolean } = {},
): Promise<Executed<S, E>> {
  const attempts = ctx.maxAttempts ?? 10;
  for (let attempt = 1; ; attempt++) {
    const { state, version } = await loadAggregate(ctx, stream, decider);
    const events = decider.decide(command(state), state);
    if (events.length === 0) return { state, events, version };
    try {
      const result = await ctx.store.append(
        stream,
        events.map((e) => ({ id: ctx.newId(), type: e.type, data: e.data, metadata: { service: 'ticket-workflow' } })),
        version === undefined ? 'no_stream' : version,
      );
      if (options.waitForReadModels !== false) await ctx.sync.waitFor(stream, result.nextExpectedVersion);
      return { state: events.reduce(decider.evolve, state), events, version: result.nextExpectedVersion };
    } catch (error) {
      if (!isConcurrencyError(error)) throw error;
      if (attempt >= attempts) {
        throw conflict(ERROR_CODES.tooManyConflicts, `${stream} kept changing under this command (${attempts} attempts); try again`);
      }
    }
  }
}
