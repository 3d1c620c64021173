/**
 * The notification process as `npm start` runs it on a fresh machine: no SMTP_URL, so
 * it starts its local mail catcher, and the mails are listed over its HTTP API. The
 * relay runs as its own process too; events go into the real store.
 */
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Subjects } from '@fairlead/contracts';
import type { PostgresEventStore } from '@fairlead/event-store';
import { mintToken } from '@fairlead/platform';
import { openTestEnvironment, type TestEnvironment } from '@fairlead/service-testing';
import { startServiceProcess, waitFor, type ServiceProcess, type TestDatabase } from '@fairlead/testing';
import { assignLead, seedWorld } from './testing/fixtures';

const JWT_SECRET = `notification-e2e-${randomUUID()}`;
/** An operator token the process accepts (the operator API's issuer and audience, any role). */
const token = (roles: ('viewer' | 'operator' | 'admin')[] = ['viewer']) => mintToken({ secret: JWT_SECRET, issuer: 'fairlead', audience: 'fairlead-operator-api', sub: 'e2e', roles, mfa: false, ttlSec: 600 });

describe('notification process in catcher mode (no SMTP_URL)', () => {
  let testEnv: TestEnvironment;
  let db: TestDatabase;
  let store: PostgresEventStore;
  let subjects: Subjects;
  const processes: ServiceProcess[] = [];
  let base: string;

  beforeAll(async () => {
    testEnv = await openTestEnvironment('notification_e2e', { declareStreams: true, connectionName: 'notification-e2e' });
    ({ db, store, subjects } = testEnv);
    const env = { DATABASE_URL: db.url, NATS_URL: testEnv.natsUrl, NATS_NAMESPACE: subjects.namespace };
    const [relay, notification] = await Promise.all([
      startServiceProcess({ service: 'relay', env }),
      startServiceProcess({ service: 'notification', env: { ...env, RETRY_BACKOFF_MS: '50,100,200', JWT_SECRET } }),
    ]);
    processes.push(relay, notification);
    base = `http://127.0.0.1:${notification.port}`;
  });

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await testEnv?.close();
  });

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- responses are checked field by field below
  const get = async (path: string, bearer?: string | null): Promise<{ status: number; type: string; body: any }> => {
    const auth = bearer === null ? undefined : (bearer ?? (await token()));
    const res = await fetch(`${base}${path}`, auth ? { headers: { authorization: `Bearer ${auth}` } } : {});
    return { status: res.status, type: res.headers.get('content-type') ?? '', body: res.headers.get('content-type')?.includes('json') ? await res.json() : await res.text() };
  };

  it('catches the emails and lists them newest first, paginated, with each one readable', async () => {
    const world = await seedWorld(store, undefined, { niche: 'Roofing' });
    const leads: string[] = [];
    for (const price of [1000, 2000, 3000]) leads.push((await assignLead(store, world, { priceCents: price })).leadId);

    await waitFor(async () => (await get('/v1/mail?limit=50')).body.items?.length === 3, { what: 'three caught mails' });
    const first = await get('/v1/mail?limit=2');
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(2);
    const second = await get(`/v1/mail?limit=2&before=${first.body.next_cursor}`);
    expect(second.body.items).toHaveLength(1);
    const items = [...first.body.items, ...second.body.items] as Array<{ id: string; to: string[]; subject: string }>;
    expect(second.body.next_cursor).toBeNull();
    expect(items.map((m) => Number(m.id))).toEqual([...items.map((m) => Number(m.id))].sort((a, b) => b - a));
    for (const m of items) {
      expect(m.to).toEqual([world.providerEmail]);
      expect(m.subject).toBe('New Lead Assigned - Roofing');
    }

    const one = await get(`/v1/mail/${items[0]!.id}`);
    expect(one.status).toBe(200);
    // Delivery order across providers is not guaranteed; the newest mail is one of the three.
    expect(one.body.text).toMatch(/Amount Charged: \$(10|20|30)\.00/);
    expect(leads.some((l) => one.body.text.includes(`Lead: ${l}`))).toBe(true);
    expect(one.body.html).toContain('<table');
    expect(one.body.headers.some((h: string) => h.startsWith('Message-ID: <'))).toBe(true);

    const raw = await get(`/v1/mail/${items[0]!.id}/raw`);
    expect(raw.type).toMatch(/^message\/rfc822/);
    expect(raw.body).toContain('Subject: New Lead Assigned - Roofing');

    const missing = await get('/v1/mail/999999999');
    expect(missing.status).toBe(404);
    expect(missing.type).toMatch(/^application\/problem\+json/);
    expect(missing.body.code).toBe('MAIL_NOT_FOUND');
  });

  it('lists the outbox by status and rejects an unknown status with problem+json', async () => {
    const sent = await waitFor(async () => {
      const page = await get('/v1/outbox?status=sent');
      return page.body.items?.length === 3 ? page : undefined;
    }, { what: 'three sent emails in the outbox' });
    for (const item of sent.body.items) expect(item).toMatchObject({ status: 'sent', attempts: 1, kind: 'lead_assigned', last_error: null });
    expect((await get('/v1/outbox?status=queued')).body.items).toEqual([]);

    const detail = await get(`/v1/outbox/${sent.body.items[0].id}`);
    expect(detail.body.text).toContain('You have been assigned a new lead!');

    const bad = await get('/v1/outbox?status=lost');
    expect(bad.status).toBe(400);
    expect(bad.type).toMatch(/^application\/problem\+json/);
  });

  it('serves health, readiness and Prometheus metrics', async () => {
    expect((await get('/healthz')).status).toBe(200);
    expect((await get('/readyz')).status).toBe(200);
    const metrics = await get('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.type).toMatch(/^text\/plain/);
    expect(metrics.body).toContain('emails_sent_total{template="lead_assigned",service="notification"} 3');
    expect(metrics.body).toContain('emails_failed_total{template="lead_assigned",service="notification"} 0');
    expect(metrics.body).toContain('notification_outbox_emails{status="sent",service="notification"} 3');
    expect(metrics.body).toMatch(/consumer_lag_messages\{consumer="notification-lead-assigned",service="notification"\} 0/);
    const stats = await get('/v1/notification/stats', null);
    expect(stats.body.mode).toBe('catcher');
    expect(stats.body.catcher_smtp).toMatch(/^smtp:\/\/127\.0\.0\.1:\d+$/);
  });

  it('shows mail and the outbox to operators only: no token, a token without a role, or without an expiry is refused', async () => {
    for (const path of ['/v1/mail', '/v1/mail/1', '/v1/mail/1/raw', '/v1/outbox', `/v1/outbox/${randomUUID()}`]) {
      const anonymous = await get(path, null);
      expect([anonymous.status, anonymous.body.code], path).toEqual([401, 'TOKEN_MISSING']);
      expect(JSON.stringify(anonymous.body)).not.toMatch(/@|Roofing/);
      expect((await get(path, await token([]))).status, path).toBe(403);
    }
    const noExp = await new SignJWT({ roles: ['admin'], amr: ['mfa'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('e2e')
      .setIssuer('fairlead')
      .setAudience('fairlead-operator-api')
      .sign(new TextEncoder().encode(JWT_SECRET));
    expect((await get('/v1/outbox', noExp)).body.code).toBe('TOKEN_CLAIM_INVALID');
    expect((await get('/v1/outbox', await token(['viewer']))).status).toBe(200);
  });
});

