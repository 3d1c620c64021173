/**
 * The notification service in process, against real PostgreSQL, real NATS, the real
 * relay (a child process: store → JetStream) and a real SMTP peer on loopback.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Subjects } from '@fairlead/contracts';
import type { PostgresEventStore } from '@fairlead/event-store';
import { readDeadLetter, type DeadLetterInfo } from '@fairlead/messaging';
import { openTestEnvironment, type TestEnvironment } from '@fairlead/service-testing';
import { startServiceProcess, waitFor, type ServiceProcess, type TestDatabase } from '@fairlead/testing';
import { findOutbox, findOutboxBySource, type OutboxRow } from './application/outbox';
import { outboxId, type EmailKind } from './domain/emails';
import { startNotificationService, type NotificationConfig, type NotificationService } from './service';
import { addSubscription, assignLead, changeStatus, pauseTogether, seedWorld } from './testing/fixtures';
import { startSmtpPeer, type SmtpPeer } from './testing/smtp-peer';

const BACKOFF = [50, 100, 200, 400, 800, 1600, 3200];

describe('notification service (real SMTP peer, NATS, PostgreSQL, relay)', () => {
  let testEnv: TestEnvironment;
  let db: TestDatabase;
  let store: PostgresEventStore;
  let nc: NatsConnection;
  let js: JetStreamClient;
  let jsm: JetStreamManager;
  let subjects: Subjects;
  let relay: ServiceProcess;
  let peer: SmtpPeer;
  let service: NotificationService | undefined;
  const logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

  beforeAll(async () => {
    testEnv = await openTestEnvironment('notification', { declareStreams: true, connectionName: 'notification-test' });
    ({ db, store, nc, jsm, subjects } = testEnv);
    js = jetstream(nc);
    relay = await startServiceProcess({ service: 'relay', env: { DATABASE_URL: db.url, NATS_URL: testEnv.natsUrl, NATS_NAMESPACE: subjects.namespace } });
    peer = await startSmtpPeer();
  });

  afterEach(async () => {
    await service?.stop();
    service = undefined;
    await peer.up().catch(() => undefined);
    peer.refuseNext(0);
  });

  afterAll(async () => {
    await service?.stop();
    await relay?.stop();
    await peer?.close();
    await testEnv?.close();
  });

  async function start(config: NotificationConfig = {}): Promise<NotificationService> {
    await service?.stop();
    service = await startNotificationService({ pool: db.pool, store, nc, js, subjects, logger, config: { smtpUrl: peer.url, backoffMs: BACKOFF, ...config } });
    return service;
  }

  const mailsTo = (address: string) => peer.received.filter((m) => m.to.includes(address));
  const row = async (kind: EmailKind, eventId: string): Promise<OutboxRow | undefined> => findOutbox(db.pool, outboxId(kind, eventId));
  // The SMTP peer has a mail before its outbox row is marked sent: wait for the mark.
  const sentRow = (kind: EmailKind, eventId: string): Promise<OutboxRow> =>
    waitFor(async () => {
      const r = await row(kind, eventId);
      return r?.status === 'sent' ? r : undefined;
    }, { what: `the ${kind} outbox row marked sent` });

  /** Every message of the durable acknowledged: handled (and its email settled) or dead-lettered. */
  async function drained(durable: string): Promise<void> {
    await waitFor(
      async () => {
        const info = await jsm.consumers.info(subjects.streams.events, durable);
        return info.num_pending === 0 && info.num_ack_pending === 0;
      },
      { what: `${durable} to acknowledge every message` },
    );
  }

  async function deadLetterFor(eventSubject: string, eventId: string): Promise<DeadLetterInfo> {
    return waitFor(
      async () => {
        const msg = await jsm.streams.getMessage(subjects.streams.deadLetters, { last_by_subj: subjects.deadLetterSubject(eventSubject) }).catch(() => null);
        const info = msg ? readDeadLetter(msg.header) : undefined;
        return info?.originalMsgId === eventId ? info : undefined;
      },
      { what: `a dead letter for ${eventId}` },
    );
  }

  async function metric(name: string): Promise<number> {
    const line = (await service!.registry.metrics()).split('\n').find((l) => l.startsWith(name));
    return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
  }

  it('a LeadAssigned event produces exactly one lead_assigned email with the right subject and body', async () => {
    await start();
    const world = await seedWorld(store, undefined, { niche: 'Roofing & Gutters', provider: 'Acme <Roofing>' });
    const { leadId, eventId } = await assignLead(store, world, { priceCents: 4250, consumerName: 'Maria del Carmen Lopez' });

    const [mail] = await waitFor(() => (mailsTo(world.providerEmail).length > 0 ? mailsTo(world.providerEmail) : undefined), { what: 'the email' });
    await drained('notification-lead-assigned');
    expect(mailsTo(world.providerEmail)).toHaveLength(1);

    expect(mail!.subject).toBe('New Lead Assigned - Roofing & Gutters');
    expect(mail!.from).toBe('no-reply@fairlead.local');
    expect(mail!.text).toContain('Hi Acme <Roofing>,');
    expect(mail!.text).toContain('Competition Level: Gold');
    expect(mail!.text).toContain('Amount Charged: $42.50');
    expect(mail!.text).toContain(`Lead: ${leadId}`);
    expect(mail!.text).toContain('Location: Austin, TX 78701');
    expect(mail!.text).toContain('Contact first name: Maria');
    expect(mail!.html).toContain('Hi Acme &lt;Roofing&gt;,');
    expect(mail!.html).toContain('Roofing &amp; Gutters');
    // Never more personal data than the summary: no surname, no contact details.
    for (const body of [mail!.text, mail!.html]) {
      expect(body).not.toContain('Lopez');
      expect(body).not.toContain('maria.lopez@example.com');
      expect(body).not.toContain('555');
    }

    const outbox = await sentRow('lead_assigned', eventId);
    expect(outbox).toMatchObject({ status: 'sent', attempts: 1, recipient: world.providerEmail, subject: mail!.subject, last_error: null, source_stream: `lead-${leadId}` });
    expect(mail!.messageId).toBe(outbox!.message_id);
    expect(await metric('emails_sent_total{template="lead_assigned"')).toBe(1);
    expect(await metric('consumer_messages_total{consumer="notification-lead-assigned",result="processed"')).toBe(1);
    expect(await metric('consumer_lag_messages{consumer="notification-lead-assigned"')).toBe(0);
    expect(await metric('consumer_dead_lettered{consumer="notification-lead-assigned"')).toBe(0);
  });

  it('a redelivered LeadAssigned (re-published, or replayed from a new consumer) sends no second email', async () => {
    await start();
    const world = await seedWorld(store);
    const { eventId } = await assignLead(store, world);
    await waitFor(() => mailsTo(world.providerEmail).length === 1, { what: 'the first email' });
    await drained('notification-lead-assigned');

    // The relay publishing the same event again after JetStream's dedup window: a new stream message, same event.
    const subject = subjects.eventSubject('lead', 'LeadAssigned');
    const original = await jsm.streams.getMessage(subjects.streams.events, { last_by_subj: subject });
    expect(original?.header.get('Nats-Msg-Id')).toBe(eventId);
    await js.publish(subject, original!.data, { msgID: `${eventId}:republished` });
    await waitFor(async () => (await metric('emails_duplicate_deliveries_total{template="lead_assigned"')) === 1, { what: 'the duplicate to be handled' });
    await drained('notification-lead-assigned');

    // A consumer deleted and created again: the whole stream is delivered once more.
    await service!.stop();
    service = undefined;
    await jsm.consumers.delete(subjects.streams.events, 'notification-lead-assigned');
    await start();
    await drained('notification-lead-assigned');

    expect(mailsTo(world.providerEmail)).toHaveLength(1);
    expect(await row('lead_assigned', eventId)).toMatchObject({ status: 'sent', attempts: 1 });
    expect(await metric('emails_sent_total{template="lead_assigned"')).toBe(0);
  });

  it('SMTP down: the attempt fails, is retried with backoff, and the email is delivered once the server is back', async () => {
    await start();
    const world = await seedWorld(store);
    await peer.down();
    const { eventId } = await assignLead(store, world);

    const failing = await waitFor(async () => {
      const r = await row('lead_assigned', eventId);
      return r && r.attempts >= 2 ? r : undefined;
    }, { what: 'two failed attempts' });
    expect(failing.status).toBe('queued');
    expect(failing.last_error).toMatch(/ECONNECTION|ECONNREFUSED/);
    expect(mailsTo(world.providerEmail)).toHaveLength(0);

    await peer.up();
    await waitFor(() => mailsTo(world.providerEmail).length > 0, { what: 'the email after SMTP came back' });
    await drained('notification-lead-assigned');
    const sent = await row('lead_assigned', eventId);
    expect(sent!.status).toBe('sent');
    expect(sent!.attempts).toBeGreaterThanOrEqual(3);
    expect(sent!.sent_at).not.toBeNull();
    expect(mailsTo(world.providerEmail)).toHaveLength(1);
    expect(await metric('email_attempts_failed_total{template="lead_assigned"')).toBe(sent!.attempts - 1);
  });

  it('SMTP answering 451: retried until accepted, one email, the outbox counts the attempts', async () => {
    await start();
    const world = await seedWorld(store);
    peer.refuseNext(2, 451);
    const { eventId } = await assignLead(store, world);
    await waitFor(() => mailsTo(world.providerEmail).length > 0, { what: 'the email' });
    await drained('notification-lead-assigned');
    const sent = await row('lead_assigned', eventId);
    expect(sent).toMatchObject({ status: 'sent', attempts: 3 });
    expect(sent!.last_error).toContain('451');
    expect(mailsTo(world.providerEmail)).toHaveLength(1);
  });

  it('SMTP refusing with 550: the email is failed at once and dead-lettered, not retried', async () => {
    await start();
    const world = await seedWorld(store);
    peer.refuseNext(1, 550);
    const { eventId } = await assignLead(store, world);
    const dead = await deadLetterFor(subjects.eventSubject('lead', 'LeadAssigned'), eventId);
    expect(dead.reason).toBe('permanent');
    expect(dead.attempts).toBe(1);
    expect(await row('lead_assigned', eventId)).toMatchObject({ status: 'failed', attempts: 1 });
    expect(mailsTo(world.providerEmail)).toHaveLength(0);
    expect(await metric('emails_failed_total{template="lead_assigned"')).toBe(1);
    await waitFor(async () => (await metric('consumer_dead_lettered{consumer="notification-lead-assigned"')) === 1, { what: 'the dead letter counted' });
    expect(await metric('consumer_messages_total{consumer="notification-lead-assigned",result="dead_lettered"')).toBe(1);
  });

  it('a failure on the last attempt marks the email failed and dead-letters the event', async () => {
    await start({ backoffMs: [20, 40] });
    const world = await seedWorld(store);
    await peer.down();
    const { eventId } = await assignLead(store, world);
    const dead = await deadLetterFor(subjects.eventSubject('lead', 'LeadAssigned'), eventId);
    expect(dead.reason).toBe('exhausted');
    expect(dead.attempts).toBe(3);
    expect(dead.error).toMatch(/ECONNECTION|ECONNREFUSED|connect/i);
    expect(await row('lead_assigned', eventId)).toMatchObject({ status: 'failed', attempts: 3 });
    expect(await metric('emails_failed_total{template="lead_assigned"')).toBe(1);
  });

  it('a subscription paused for funds sends the low_balance email; other status changes send nothing', async () => {
    await start();
    const world = await seedWorld(store, undefined, { niche: 'Solar', level: 'Silver' });
    const paused = await changeStatus(store, world, 'active', 'paused_low_balance');
    const [mail] = await waitFor(() => (mailsTo(world.providerEmail).length > 0 ? mailsTo(world.providerEmail) : undefined), { what: 'the low balance email' });
    expect(mail!.subject).toBe('Leads paused: low balance - Solar');
    expect(mail!.text).toContain('Hi Acme Roofing,');
    expect(mail!.text).toContain('paused: Solar (Silver).');
    const email = await waitFor(async () => {
      const r = await findOutboxBySource(db.pool, 'low_balance', paused);
      return r?.status === 'sent' ? r : undefined;
    }, { what: 'the low_balance outbox row marked sent' });
    expect(email).toMatchObject({ status: 'sent', attempts: 1 });

    const resumed = await changeStatus(store, world, 'paused_low_balance', 'active');
    await waitFor(async () => (await jsm.streams.getMessage(subjects.streams.events, { last_by_subj: subjects.eventSubject('subscription', 'SubscriptionStatusChanged') }))?.header.get('Nats-Msg-Id') === resumed, {
      what: 'the second status change relayed',
    });
    await drained('notification-low-balance');
    expect(mailsTo(world.providerEmail)).toHaveLength(1);
    expect(await findOutboxBySource(db.pool, 'low_balance', resumed)).toBeUndefined();
  });

  it('one balance change that pauses several subscriptions of a provider sends one low_balance email naming them all; a later pause sends another', async () => {
    await start();
    const world = await seedWorld(store, undefined, { niche: 'Roofing', level: 'Gold' });
    const second = await addSubscription(store, world, { niche: 'Solar', level: 'Bronze' });
    const third = await addSubscription(store, world, { niche: 'Windows', level: 'Silver' });
    const first = await pauseTogether(store, db.pool, world.providerId, [world.subscriptionId, second, third]);
    await waitFor(() => mailsTo(world.providerEmail).length > 0, { what: 'the low balance email' });
    await drained('notification-low-balance');
    const mails = mailsTo(world.providerEmail);
    expect(mails).toHaveLength(1);
    expect(mails[0]!.subject).toBe('Leads paused: low balance - Roofing, Solar, Windows');
    expect(mails[0]!.text).toContain('paused: Roofing (Gold), Solar (Bronze), Windows (Silver).');
    // Every event of the pause found that one email; none counted as a redelivery.
    const rows = await Promise.all(first.map((id) => findOutboxBySource(db.pool, 'low_balance', id)));
    expect(rows.filter((r) => r !== undefined)).toHaveLength(1);
    expect(await metric('emails_duplicate_deliveries_total{template="low_balance"')).toBe(0);

    // Another balance change later pauses a subscription added since: a new pause, a new email naming it.
    const fourth = await addSubscription(store, world, { niche: 'Gutters', level: 'Gold' });
    await pauseTogether(store, db.pool, world.providerId, [fourth]);
    await waitFor(() => mailsTo(world.providerEmail).length === 2, { what: 'the second low balance email' });
    expect(mailsTo(world.providerEmail)[1]!.text).toContain('paused: Gutters (Gold).');
  });

  it('template files in EMAIL_TEMPLATES_DIR win over the shipped ones', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'notification-templates-'));
    try {
      await writeFile(join(dir, 'lead_assigned.subject'), '[{{level_name}}] {{niche_name}} lead in {{lead_location}} for ${{price_charged}}\n');
      await writeFile(join(dir, 'lead_assigned.html'), '<p>Custom for {{provider_name}}</p>');
      await start({ templatesDir: dir });
      const world = await seedWorld(store, undefined, { niche: 'HVAC' });
      await assignLead(store, world, { priceCents: 999 });
      const [mail] = await waitFor(() => (mailsTo(world.providerEmail).length > 0 ? mailsTo(world.providerEmail) : undefined), { what: 'the email' });
      expect(mail!.subject).toBe('[Gold] HVAC lead in Austin, TX 78701 for $9.99');
      expect(mail!.html).toContain('<p>Custom for Acme Roofing</p>');
      expect(mail!.text).toContain('Amount Charged: $9.99');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a malformed LeadAssigned payload is dead-lettered with its issues and the consumer keeps going', async () => {
    await start();
    const world = await seedWorld(store);
    const badId = '00000000-0000-4000-8000-00000000bad1';
    // Stored and relayed like any event: the store does not validate data, the consumer must.
    await store.append('lead-broken', [{ id: badId, type: 'LeadAssigned', data: { lead_id: 'broken', price_cents: 'a lot' } }], 'any');
    const dead = await deadLetterFor(subjects.eventSubject('lead', 'LeadAssigned'), badId);
    expect(dead.reason).toBe('malformed');
    expect(dead.issues?.map((i) => i.path.join('.'))).toEqual(expect.arrayContaining(['data.provider_id', 'data.price_cents']));
    expect(await row('lead_assigned', badId)).toBeUndefined();

    const { eventId } = await assignLead(store, world);
    await waitFor(() => mailsTo(world.providerEmail).length === 1, { what: 'the next valid email' });
    expect(await sentRow('lead_assigned', eventId)).toMatchObject({ status: 'sent' });
  });
});
