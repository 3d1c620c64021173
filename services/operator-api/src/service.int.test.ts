/** startOperatorApi and the event store it is given: where the API reads the log with SQL. */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streams } from '@fairlead/contracts';
import { createPostgresEventStore, type EventStore } from '@fairlead/event-store';
import { mintToken } from '@fairlead/platform';
import { openTestEnvironment, type TestEnvironment } from '@fairlead/service-testing';
import { startOperatorApi, type OperatorApiDeps, type OperatorApiStore } from './service';
import { partialDistribution } from './testing/events';

let env: TestEnvironment;
const secret = randomBytes(32).toString('hex');
const auth = { secret, issuer: 'fairlead-test', audience: 'fairlead-operator-api-test' };
const deps = (store: OperatorApiStore): OperatorApiDeps => ({ pool: env.db.pool, store, nc: env.nc, subjects: env.subjects, logger: env.logger, auth, config: { rateLimitMax: 100_000 } });

beforeAll(async () => {
  env = await openTestEnvironment('op_service_store');
});
afterAll(async () => {
  await env?.close();
});

describe('the event store the API is given', () => {
  it('must name the schema of its tables: a store without one, or with one that is not an identifier, is refused at start, before anything runs', async () => {
    const plain: EventStore = env.store;
    // @ts-expect-error an event store that names no schema is not what the API takes (tsc checks this line)
    const typed: OperatorApiStore = plain;
    expect(typed.schema).toBe('eventstore');
    // Past the type checker (plain JavaScript, a cast): the type makes these a compile error.
    const nameless = { ...env.store, schema: undefined } as unknown as OperatorApiStore;
    await expect(startOperatorApi(deps(nameless))).rejects.toThrow(/deps\.store must name the PostgreSQL schema of its tables \(store\.schema/);
    await expect(startOperatorApi(deps({ ...env.store, schema: 'eventstore; drop table x' }))).rejects.toThrow(/event store schema/);
    // Refused before the read models set up their schema.
    const { rows } = await env.db.pool.query<{ found: boolean }>(`select to_regclass('operator.projection_checkpoints') is not null as found`);
    expect(rows[0]!.found).toBe(false);
  });

  it("reads the decision record's events in the schema its store names", async () => {
    const store = createPostgresEventStore({ pool: env.db.pool, schema: 'op_other_log' });
    await store.migrate();
    const api = await startOperatorApi(deps(store));
    try {
      const s = partialDistribution('lead-elsewhere', 'moving');
      await store.append(streams.lead(s.leadId), s.events, 'any');
      await api.caughtUp();
      // The default schema's log holds none of it.
      expect((await env.db.pool.query(`select 1 from eventstore.events where stream_name = $1`, [streams.lead(s.leadId)])).rowCount).toBe(0);
      const token = await mintToken({ ...auth, sub: 'alice', roles: ['viewer'], mfa: true, ttlSec: 600 });
      const res = await api.app.inject({ method: 'GET', url: `/api/v1/admin/leads/${s.leadId}/decision-record`, headers: { authorization: `Bearer ${token}` } });
      expect(res.statusCode).toBe(200);
      const record = res.json<{ levels: { rounds: { candidates: { provider_id: string; decision: string }[] }[] }[] }>();
      expect(record.levels[0]!.rounds[0]!.candidates.map((c) => [c.provider_id, c.decision])).toEqual([
        ['p3', 'skipped'],
        ['p1', 'not_picked'],
      ]);
    } finally {
      await api.stop();
      await store.close();
    }
  });
});
