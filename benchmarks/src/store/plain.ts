/** The baseline: a plain single-row INSERT per event, autocommit, into a table with the same columns. */
import type pg from 'pg';
import type { WriterOp } from './run';
import { sampleEvent } from './payload';

export async function createPlainTable(pool: pg.Pool): Promise<void> {
  await pool.query(`
    create table plain_events (
      global_position bigserial primary key,
      event_id text not null,
      stream_name text not null,
      stream_version integer not null,
      type text not null,
      data jsonb not null,
      metadata jsonb not null default '{}',
      created_at timestamptz not null default now())`);
}

export function plainInsertWriter(pool: pg.Pool) {
  return (index: number): WriterOp => {
    const stream = `bench-plain${index}`;
    let n = 0;
    return async () => {
      const version = n++;
      const event = sampleEvent(stream, version);
      await pool.query({
        name: 'plain_insert',
        text: 'insert into plain_events (event_id, stream_name, stream_version, type, data, metadata) values ($1, $2, $3, $4, $5, $6)',
        values: [event.id, stream, version, event.type, JSON.stringify(event.data), JSON.stringify(event.metadata)],
      });
      return 1;
    };
  };
}
