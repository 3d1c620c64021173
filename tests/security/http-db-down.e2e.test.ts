/**
 * PostgreSQL stops under running services: their reads answer 503 problem+json with
 * Retry-After (and say nothing of the driver's error), not 500; `/readyz` says the database
 * is down; once it is back, the same reads answer again, with no restart. "Stopped" is a
 * proxy of this file's own in front of the test run's server: closed, every connection
 * drops and new ones are refused, and no other test file notices.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken, type Role } from '@fairlead/platform';
import { waitFor } from '@fairlead/testing';
import { TEST_JWT_SECRET } from '../support/system';
import { expectRefused, send } from './http-walk';
import { startHttpSystem, type HttpSystem } from './http-system';
import { startTcpProxy, type TcpProxy } from './tcp-proxy';

let proxy: TcpProxy;
let system: HttpSystem;

beforeAll(async () => {
  system = await startHttpSystem('sec_dbdown', ['operator-api', 'notification', 'intake'], {
    // The services reach the test database through the proxy.
    databaseUrl: async (url) => {
      const target = new URL(url);
      proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port) });
      target.hostname = '127.0.0.1';
      target.port = String(proxy.port);
      return target.toString();
    },
  });
}, 240_000);
afterAll(async () => {
  await system?.close();
  await proxy?.close();
});

const token = (roles: Role[]) => mintToken({ secret: TEST_JWT_SECRET, issuer: 'fairlead', audience: 'fairlead-operator-api', sub: 'db-down', roles, mfa: true, ttlSec: 600 });

/** Reads that go to PostgreSQL, one per service (intake's distribution request reads the lead's stream first). */
async function reads(): Promise<{ what: string; status: number; res: Awaited<ReturnType<typeof send>> }[]> {
  const viewer = { authorization: `Bearer ${await token(['viewer'])}` };
  const operator = { authorization: `Bearer ${await token(['operator'])}` };
  const calls = [
    ['operator-api GET /api/v1/admin/niches', send(system.bases['operator-api']!, 'GET', '/api/v1/admin/niches', { headers: viewer })],
    ['operator-api GET /api/v1/admin/leads', send(system.bases['operator-api']!, 'GET', '/api/v1/admin/leads?limit=5', { headers: viewer })],
    ['notification GET /v1/outbox', send(system.bases.notification!, 'GET', '/v1/outbox', { headers: viewer })],
    ['notification GET /v1/mail', send(system.bases.notification!, 'GET', '/v1/mail', { headers: viewer })],
    ['intake POST /v1/leads/db-down-lead/distribute', send(system.bases.intake!, 'POST', '/v1/leads/db-down-lead/distribute', { headers: operator })],
  ] as const;
  return Promise.all(calls.map(async ([what, pending]) => {
    const res = await pending;
    return { what, status: res.status, res };
  }));
}

describe('PostgreSQL down under running services', () => {
  it('reads answer normally while it is up', async () => {
    const answers = await reads();
    expect(answers.map((a) => `${a.what} ${a.status}`)).toEqual([
      'operator-api GET /api/v1/admin/niches 200',
      'operator-api GET /api/v1/admin/leads 200',
      'notification GET /v1/outbox 200',
      'notification GET /v1/mail 200',
      // No such lead: found out by reading the store.
      'intake POST /v1/leads/db-down-lead/distribute 404',
    ]);
  });

  it('reads answer 503 with Retry-After while it is down, never 500, and /readyz says so', async () => {
    await proxy.close();
    for (const { what, res } of await reads()) {
      expect(res.status, `${what}: ${res.text}`).toBe(503);
      expect(res.headers.get('content-type'), what).toMatch(/^application\/problem\+json/);
      const body = JSON.parse(res.text) as { code: string; detail: string };
      expect(body.code, what).toBe('DATABASE_UNAVAILABLE');
      expect(res.headers.get('retry-after'), what).toBe('5');
      expect(res.text, what).not.toMatch(/ECONN|terminated|127\.0\.0\.1|postgres:/i);
    }
    for (const name of ['operator-api', 'notification', 'intake']) {
      const ready = await send(system.bases[name]!, 'GET', '/readyz');
      expect(ready.status, name).toBe(503);
      expect(ready.text, name).toContain('"postgres"');
    }
    // The rest of the refusals stay what they were: no credentials is still a 401, not a 503.
    expectRefused(await send(system.bases.notification!, 'GET', '/v1/outbox'), 'no token while the database is down', { status: 401 });
  });

  it('answers again once it is back, without a restart', async () => {
    await proxy.open();
    await waitFor(async () => (await reads()).every((a) => a.status < 500), { timeoutMs: 30_000, what: 'the reads to answer again' });
    expect((await reads()).map((a) => a.status)).toEqual([200, 200, 200, 200, 404]);
    for (const p of Object.values(system.processes)) expect(p.output(), p.name).not.toMatch(/"level":"(fatal)"/);
  });
});
