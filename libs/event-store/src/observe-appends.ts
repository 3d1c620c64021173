/**
 * Watching what a process writes, without touching the code that writes it: services
 * count their own decisions (metrics) from the events they append. The observer sees an
 * append only when it stored new events, so an idempotent repeat is not counted twice.
 */
import type { AppendResult, EventStore, NewEvent } from './types';

/** Called after an append that stored new events (in a caller's transaction: before its commit). */
export type AppendObserver = (stream: string, events: readonly NewEvent[], result: AppendResult) => void;

/**
 * The same store, with `observer` called after each append (and appendInTransaction /
 * appendManyInTransaction / appendManyWith, when the store has them) that stored new events. An observer that throws is ignored.
 */
export function observeAppends<S extends EventStore>(store: S, observer: AppendObserver): S {
  const notify = (stream: string, events: readonly NewEvent[], result: AppendResult) => {
    if (result.appended === 0) return;
    try {
      observer(stream, events, result);
    } catch {
      // Counting must never fail a write that succeeded.
    }
  };
  return new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      if (property === 'append') {
        return async (stream: string, events: readonly NewEvent[], expected: Parameters<EventStore['append']>[2]) => {
          const result = await target.append(stream, events, expected);
          notify(stream, events, result);
          return result;
        };
      }
      if (property === 'appendInTransaction') {
        return async (client: unknown, stream: string, events: readonly NewEvent[], expected: unknown) => {
          const result = (await (value as (...args: unknown[]) => Promise<AppendResult>).call(target, client, stream, events, expected)) as AppendResult;
          notify(stream, events, result);
          return result;
        };
      }
      if (property === 'appendManyInTransaction' || property === 'appendManyWith') {
        return async (client: unknown, appends: readonly { stream: string; events: readonly NewEvent[] }[], ...rest: unknown[]) => {
          const results = (await (value as (...args: unknown[]) => Promise<AppendResult[]>).call(target, client, appends, ...rest)) as AppendResult[];
          results.forEach((result, i) => notify(appends[i]!.stream, appends[i]!.events, result));
          return results;
        };
      }
      return (value as (...args: unknown[]) => unknown).bind(target);
    },
  });
}
