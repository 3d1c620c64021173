/**
 * A real PostgreSQL database and event store for read-model tests: append events,
 * project them, replay them from the start, and dump tables to compare.
 */
import type pg from 'pg';
import { createPostgresEventStore, type NewEvent, type PostgresEventStore } from '@fairlead/event-store';
import { startProjector, type ProjectionDefinition } from '@fairlead/projections';
import { createTestDatabase, type TestDatabase } from '@fairlead/testing';
import { SCHEMA } from '../projections/index';

export interface ProjectionHarness {
  db: TestDatabase;
  pool: pg.Pool;
  store: PostgresEventStore;
  append(stream: string, events: readonly NewEvent[]): Promise<void>;
  /** Runs the projection until it has applied everything stored now. */
  project(definition: ProjectionDefinition): Promise<void>;
  /** Forgets the projection's checkpoint and projects the whole log again over the existing rows. */
  replay(definition: ProjectionDefinition): Promise<void>;
  /** Every row of the tables, ordered, as JSON text (for before/after comparisons). */
  dump(tables: readonly string[]): Promise<string>;
  close(): Promise<void>;
}

export async function startProjectionHarness(label: string): Promise<ProjectionHarness> {
  const db = await createTestDatabase(label);
  // Dropping the database at the end ends idle connections; that is not a test failure.
  db.pool.on('error', () => undefined);
  const store = createPostgresEventStore({ pool: db.pool });
  await store.migrate();

  const project = async (definition: ProjectionDefinition) => {
    const projector = await startProjector({ store, pool: db.pool, schema: SCHEMA, projection: definition });
    try {
      await projector.waitUntilCaughtUp();
    } finally {
      await projector.stop();
    }
  };

  return {
    db,
    pool: db.pool,
    store,
    append: async (stream, events) => void (await store.append(stream, events, 'any')),
    project,
    replay: async (definition) => {
      await db.pool.query(`delete from ${SCHEMA}.projection_checkpoints where name = $1`, [definition.name]);
      await project(definition);
    },
    dump: async (tables) => {
      const parts: unknown[] = [];
      // Table names come from the test itself, never from input.
      for (const table of tables) parts.push((await db.pool.query(`select * from ${table} order by 1`)).rows);
      return JSON.stringify(parts);
    },
    close: async () => {
      await store.close();
      await db.drop();
    },
  };
}
