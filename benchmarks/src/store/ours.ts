/** Writers for our PostgreSQL event store. */
import { isConcurrencyError, type ExpectedVersion, type PostgresEventStore } from '@fairlead/event-store';
import type { WriterOp } from './run';
import { sampleEvent } from './payload';

/** Each writer appends `eventsPerAppend` events per call to a stream of its own, with the exact expected version. */
export function ownStreamWriter(store: PostgresEventStore, label: string, eventsPerAppend: number) {
  return (index: number): WriterOp => {
    const stream = `bench-${label}${index}`;
    let expected: ExpectedVersion = 'no_stream';
    let n = 0;
    return async () => {
      const events = Array.from({ length: eventsPerAppend }, () => sampleEvent(stream, n++));
      const result = await store.append(stream, events, expected);
      expected = result.nextExpectedVersion;
      return result.appended;
    };
  };
}

/** All writers append one event per call to one stream; a conflict re-reads the version and retries. */
export function sharedStreamWriter(store: PostgresEventStore, stream: string) {
  return (_index: number): WriterOp => {
    let expected: ExpectedVersion = 'any';
    let n = 0;
    return async () => {
      try {
        if (expected === 'any') expected = (await store.streamVersion(stream)) ?? 'no_stream';
        const result = await store.append(stream, [sampleEvent(stream, n++)], expected);
        expected = result.nextExpectedVersion;
        return result.appended;
      } catch (error) {
        if (!isConcurrencyError(error)) throw error;
        expected = error.actual ?? 'no_stream';
        return 0;
      }
    };
  };
}
