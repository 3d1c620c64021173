/** Emmett's PostgreSQL event store (@event-driven-io/emmett-postgresql), same writers, same rows. */
import { STREAM_DOES_NOT_EXIST } from '@event-driven-io/emmett';
import { getPostgreSQLEventStore, type PostgresEventStore as EmmettStore } from '@event-driven-io/emmett-postgresql';
import type { WriterOp } from './run';
import { sampleEvent } from './payload';

export async function openEmmett(connectionString: string): Promise<EmmettStore> {
  const store = getPostgreSQLEventStore(connectionString);
  await store.schema.migrate();
  return store;
}

/** Each writer appends `eventsPerAppend` events per call to a stream of its own, with the exact expected version. */
export function emmettWriter(store: EmmettStore, label: string, eventsPerAppend: number) {
  return (index: number): WriterOp => {
    const stream = `bench-emmett-${label}${index}`;
    let expected: bigint | typeof STREAM_DOES_NOT_EXIST = STREAM_DOES_NOT_EXIST;
    let n = 0;
    return async () => {
      const events = Array.from({ length: eventsPerAppend }, () => {
        const event = sampleEvent(stream, n++);
        return { type: event.type, data: event.data, metadata: event.metadata };
      });
      const result = await store.appendToStream(stream, events, { expectedStreamVersion: expected });
      expected = result.nextExpectedStreamVersion;
      return eventsPerAppend;
    };
  };
}
