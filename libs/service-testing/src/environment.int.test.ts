/** The shared test environment, opened and closed for real: its parts work, and close() leaves nothing behind. */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { serverDatabaseUrl } from '@fairlead/testing';
import { openTestEnvironment } from './environment';

async function databaseExists(name: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: serverDatabaseUrl() });
  await client.connect();
  try {
    return (await client.query('select 1 from pg_database where datname = $1', [name])).rowCount === 1;
  } finally {
    await client.end();
  }
}

describe('openTestEnvironment', () => {
  it('opens a migrated store, NATS, a namespace of its own and service instances, and close() takes them all down', async () => {
    const env = await openTestEnvironment('svc_env', { declareStreams: true });
    const name = new URL(env.db.url).pathname.slice(1);
    expect(await databaseExists(name)).toBe(true);
    await env.store.append('thing-1', [{ id: randomUUID(), type: 'ThingHappened', data: { n: 1 } }], 'no_stream');

    const instance = await env.openInstance({ poolSize: 2 });
    expect((await instance.store.readStream('thing-1')).map((e) => e.type)).toEqual(['ThingHappened']);
    const replies = instance.nc.subscribe(env.subjects.command('svcenv', 'echo'), { callback: (_error, msg) => void msg.respond(msg.data) });
    // The request goes over another connection: the server must know the subscription first.
    await instance.nc.flush();
    expect((await env.nc.request(env.subjects.command('svcenv', 'echo'), 'ping')).string()).toBe('ping');
    replies.unsubscribe();
    const streamNames = Object.values(env.subjects.streams);
    expect((await env.jsm.streams.info(streamNames[0]!)).config.name).toBe(streamNames[0]);

    const order: string[] = [];
    const started = await env.startInstance(async (parts) => ({ stop: async () => void order.push(`service stopped, its connection ${parts.nc.isClosed() ? 'closed' : 'open'}`) }));
    env.onClose(async () => void order.push('first registered'));
    env.onClose(async () => void order.push('last registered'));
    await env.close();
    expect(order).toEqual(['last registered', 'first registered', 'service stopped, its connection open']);
    expect(started.nc.isClosed()).toBe(true);
    expect(instance.nc.isClosed()).toBe(true);
    expect(env.nc.isClosed()).toBe(true);
    expect(await databaseExists(name)).toBe(false);
  });

  it('gives two environments different databases and namespaces', async () => {
    const [a, b] = [await openTestEnvironment('svc_env_a'), await openTestEnvironment('svc_env_b')];
    try {
      expect(a.db.url).not.toBe(b.db.url);
      expect(a.subjects.namespace).not.toBe(b.subjects.namespace);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
