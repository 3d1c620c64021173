/**
 * The notifier without NATS: the outbox and the row lock against real PostgreSQL and a
 * real SMTP peer.
 */
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDistributionEvent, streams } from '@fairlead/contracts';
import { createPostgresEventStore, START, type PostgresEventStore } from '@fairlead/event-store';
import { isPermanentError } from '@fairlead/messaging';
import { startProjector, type RunningProjector } from '@fairlead/projections';
import { createTestDatabase, waitFor, type TestDatabase } from '@fairlead/testing';
import { outboxId } from '../domain/emails';
import { isMissingFactError } from '../domain/errors';
import { createNotificationMetrics } from '../metrics';
import { directoryProjection } from '../projections/directory/directory.projection';
import { migrateNotification, SCHEMA } from '../schema';
import { createSmtpSender, type MailSender } from '../smtp/sender';
import { assignLead, seedWorld } from '../testing/fixtures';
import { startSmtpPeer, type SmtpPeer } from '../testing/smtp-peer';
import { createNotifier, type Notifier, type SourceEvent } from './notify';
import { findOutbox } from './outbox';
import { loadTemplates } from './templates';

describe('notifier (outbox + SMTP)', () => {
  let db: TestDatabase;
  let store: PostgresEventStore;
  let projector: RunningProjector;
  let peer: SmtpPeer;
  let sender: MailSender;
  let notifier: Notifier;
  let catchUps = 0;

  beforeAll(async () => {
    db = await createTestDatabase('notification_notify');
    store = createPostgresEventStore({ pool: db.pool });
    await store.migrate();
    await migrateNotification(db.pool);
    const logger = pino({ level: 'silent' });
    projector = await startProjector({ store, pool: db.pool, schema: SCHEMA, projection: directoryProjection(logger) });
    peer = await startSmtpPeer();
    sender = createSmtpSender({ url: peer.url, timeoutMs: 5_000 });
    notifier = createNotifier({
      pool: db.pool,
      store,
      templates: await loadTemplates(),
      sender,
      from: 'Fairlead <no-reply@fairlead.test>',
      directoryCaughtUp: async () => {
        catchUps++;
        await projector.waitUntilCaughtUp();
      },
      metrics: createNotificationMetrics(new Registry()),
      logger,
    });
  });

  afterAll(async () => {
    sender?.close();
    await peer?.close();
    await projector?.stop();
    await store?.close();
    await db?.drop();
  });

  async function storedAssignment(leadId: string, eventId: string): Promise<SourceEvent<ReturnType<typeof parseDistributionEvent<'LeadAssigned'>>>> {
    const e = (await store.readStream(streams.lead(leadId))).find((x) => x.id === eventId)!;
    return { event_id: e.id, stream: e.stream, created_at: e.createdAt.toISOString(), data: parseDistributionEvent('LeadAssigned', e.data) };
  }

  it('two deliveries of one event at the same time send one email (the email lock is held while sending)', async () => {
    const world = await seedWorld(store);
    const { leadId, eventId } = await assignLead(store, world);
    const event = await storedAssignment(leadId, eventId);
    const results = await Promise.all([notifier.leadAssigned(event, { attempt: 1, maxAttempts: 3 }), notifier.leadAssigned(event, { attempt: 1, maxAttempts: 3 })]);
    expect(results.sort()).toEqual(['already_sent', 'sent']);
    expect(peer.received.filter((m) => m.to.includes(world.providerEmail))).toHaveLength(1);
    expect(await findOutbox(db.pool, outboxId('lead_assigned', eventId))).toMatchObject({ status: 'sent', attempts: 1 });
  });

  it('a delivery that waits on the lock while another sends the email reads the row after the lock: it finds it sent and sends nothing', async () => {
    const world = await seedWorld(store);
    const { leadId, eventId } = await assignLead(store, world);
    const event = await storedAssignment(leadId, eventId);
    const attempt = { attempt: 1, maxAttempts: 3 };
    const gate = peer.holdNext();
    const first = notifier.leadAssignedBatch([{ event, attempt }]);
    await gate.arrived;
    // The first holds the email's lock during its SMTP conversation: the second waits in claim_outbox.
    const second = notifier.leadAssignedBatch([{ event, attempt }]);
    await waitFor(async () => {
      const { rows } = await db.pool.query<{ n: number }>(
        `select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and wait_event = 'advisory'`,
      );
      return rows[0]!.n > 0;
    }, { what: 'the second delivery to wait on the email lock' });
    gate.release();
    expect(await first).toEqual(['sent']);
    expect(await second).toEqual(['already_sent']);
    expect(peer.received.filter((m) => m.to.includes(world.providerEmail))).toHaveLength(1);
    expect(await findOutbox(db.pool, outboxId('lead_assigned', eventId))).toMatchObject({ status: 'sent', attempts: 1 });
  });

  it.each(['one email', 'a batch'])(
    'sends %s holding no transaction id: events committed during the SMTP conversation reach the log readers at once',
    async (path) => {
      const world = await seedWorld(store);
      const { leadId, eventId } = await assignLead(store, world);
      const event = await storedAssignment(leadId, eventId);
      const attempt = { attempt: 1, maxAttempts: 3 };
      const gate = peer.holdNext();
      const delivering = path === 'one email' ? notifier.leadAssigned(event, attempt) : notifier.leadAssignedBatch([{ event, attempt }]);
      await gate.arrived;
      // The email is between DATA and the server's answer. A transaction with an xid open
      // now would keep every later event below read_page's watermark until it ends.
      const { rows } = await db.pool.query<{ n: number }>(
        `select count(*)::int as n from pg_stat_activity where datname = current_database() and backend_xid is not null and pid <> pg_backend_pid()`,
      );
      expect(rows[0]!.n).toBe(0);
      const from = (await store.headCheckpoint()) ?? START;
      const later = await assignLead(store, world);
      const read = await store.readAll(from, 100);
      expect(read.events.map((e) => e.id)).toContain(later.eventId);
      gate.release();
      expect(await delivering).toEqual(path === 'one email' ? 'sent' : ['sent']);
      expect(await findOutbox(db.pool, outboxId('lead_assigned', eventId))).toMatchObject({ status: 'sent', attempts: 1 });
    },
  );

  it('a batch sends one email per event, however often the events come: a redelivery inside the batch and a second batch racing it send nothing more', async () => {
    const worlds = [await seedWorld(store), await seedWorld(store)];
    const events = [];
    for (const world of [...worlds, ...worlds]) {
      const { leadId, eventId } = await assignLead(store, world);
      events.push(await storedAssignment(leadId, eventId));
    }
    const attempt = { attempt: 1, maxAttempts: 3 };
    const batch = [...events, events[0]!].map((event) => ({ event, attempt }));
    const [first, second] = await Promise.all([notifier.leadAssignedBatch(batch), notifier.leadAssignedBatch(batch)]);
    // Each event is sent by exactly one of the two batches; every other answer is already_sent.
    events.forEach((_, n) => expect([first![n], second![n]].sort()).toEqual(['already_sent', 'sent']));
    expect(first![4]).toBe('already_sent');
    expect(second![4]).toBe('already_sent');
    for (const world of worlds) expect(peer.received.filter((m) => m.to.includes(world.providerEmail))).toHaveLength(2);
    for (const event of events) expect(await findOutbox(db.pool, outboxId('lead_assigned', event.event_id))).toMatchObject({ status: 'sent', attempts: 1 });
  });

  it('in a batch, an email the server refuses and an event naming an unknown provider fail alone; the others are sent', async () => {
    const world = await seedWorld(store);
    const events = [];
    for (let i = 0; i < 3; i++) {
      const { leadId, eventId } = await assignLead(store, world);
      events.push(await storedAssignment(leadId, eventId));
    }
    const ghost = { ...events[0]!, event_id: `${events[0]!.event_id}-ghost`, data: { ...events[0]!.data, provider_id: 'nobody' } };
    peer.refuseNext(1, 550);
    const results = await notifier.leadAssignedBatch([...events, ghost].map((event) => ({ event, attempt: { attempt: 1, maxAttempts: 3 } })));
    peer.refuseNext(0);
    expect(isMissingFactError(results[3])).toBe(true);
    const refused = results.slice(0, 3).filter((r) => isPermanentError(r));
    expect(refused).toHaveLength(1);
    expect(results.slice(0, 3).filter((r) => r === 'sent')).toHaveLength(2);
    const rows = await Promise.all(events.map((e) => findOutbox(db.pool, outboxId('lead_assigned', e.event_id))));
    expect(rows.map((r) => r!.status).sort()).toEqual(['failed', 'sent', 'sent']);
    expect(rows.find((r) => r!.status === 'failed')!.last_error).toMatch(/550/);
    expect(await findOutbox(db.pool, outboxId('lead_assigned', ghost.event_id))).toBeUndefined();
  });

  it('waits for the directory once when a provider is not projected yet, and fails transiently when it never is', async () => {
    const world = await seedWorld(store);
    const { leadId, eventId } = await assignLead(store, world);
    const event = await storedAssignment(leadId, eventId);
    // Straight after the append the projector may or may not have the provider; either way the email goes.
    expect(await notifier.leadAssigned(event, { attempt: 1, maxAttempts: 3 })).toBe('sent');

    const before = catchUps;
    const ghost = { ...event, event_id: `${event.event_id}-ghost`, data: { ...event.data, provider_id: 'nobody' } };
    const error = await notifier.leadAssigned(ghost, { attempt: 1, maxAttempts: 3 }).catch((e: unknown) => e);
    expect(isMissingFactError(error)).toBe(true);
    expect(isPermanentError(error)).toBe(false);
    expect(catchUps).toBe(before + 1);
    expect(await findOutbox(db.pool, outboxId('lead_assigned', ghost.event_id))).toBeUndefined();
  });

  /** A notifier over the test's store whose stream reads are recorded (`reads`, the streams read). */
  async function notifierCountingReads(options: { eventStoreSchema?: string } = {}): Promise<{ own: Notifier; reads: string[] }> {
    const reads: string[] = [];
    const counting = Object.assign(Object.create(store) as PostgresEventStore, {
      readStream: (stream: string, ...rest: unknown[]) => {
        reads.push(stream);
        return (store.readStream as (...a: unknown[]) => ReturnType<PostgresEventStore['readStream']>)(stream, ...rest);
      },
    });
    const own = createNotifier({
      pool: db.pool,
      store: counting,
      ...options,
      templates: await loadTemplates(),
      sender,
      from: 'Fairlead <no-reply@fairlead.test>',
      directoryCaughtUp: () => projector.waitUntilCaughtUp(),
      metrics: createNotificationMetrics(new Registry()),
      logger: pino({ level: 'silent' }),
    });
    return { own, reads };
  }

  it('the emails of one lead in batches at the same time read its stream once; a failed read is read again next time', async () => {
    const worlds = [await seedWorld(store), await seedWorld(store), await seedWorld(store)];
    const { leadId, eventId } = await assignLead(store, worlds[0]!);
    const base = await storedAssignment(leadId, eventId);
    const { own, reads } = await notifierCountingReads();
    const attempt = { attempt: 1, maxAttempts: 3 };
    const events = worlds.map((w, n) => (n === 0 ? base : { ...base, event_id: randomUUID(), data: { ...base.data, provider_id: w.providerId, niche_id: w.nicheId } }));
    const results = await Promise.all(events.map((event) => own.leadAssignedBatch([{ event, attempt }])));
    expect(results).toEqual([['sent'], ['sent'], ['sent']]);
    expect(reads.filter((s) => s === streams.lead(leadId))).toHaveLength(1);

    // A lead whose LeadApproved is not stored yet: a transient failure, and the next attempt reads the stream again.
    const late = `lead-${randomUUID().slice(0, 8)}`;
    const early = { ...base, event_id: randomUUID(), data: { ...base.data, lead_id: late } };
    const [missing] = await own.leadAssignedBatch([{ event: early, attempt }]);
    expect(isMissingFactError(missing)).toBe(true);
    await store.append(streams.lead(late), [{ id: randomUUID(), type: 'LeadApproved', data: (await store.readStream(streams.lead(leadId)))[0]!.data }], 'no_stream');
    expect(await own.leadAssignedBatch([{ event: early, attempt: { attempt: 2, maxAttempts: 3 } }])).toEqual(['sent']);
    expect(reads.filter((s) => s === streams.lead(late))).toHaveLength(2);
  });

  it("with the store's schema, a batch reads its leads' LeadApproved with its facts (no readStream); a lead without one fails transiently and is read again next time", async () => {
    const worlds = [await seedWorld(store), await seedWorld(store)];
    const a = await assignLead(store, worlds[0]!, { consumerName: 'Ana Silva', city: 'Dallas' });
    const b = await assignLead(store, worlds[1]!, { consumerName: 'Bo Chen', city: 'Houston' });
    const { own, reads } = await notifierCountingReads({ eventStoreSchema: store.schema });
    const attempt = { attempt: 1, maxAttempts: 3 };
    const late = `lead-${randomUUID().slice(0, 8)}`;
    const eventA = await storedAssignment(a.leadId, a.eventId);
    const early = { ...eventA, event_id: randomUUID(), data: { ...eventA.data, lead_id: late, provider_id: worlds[1]!.providerId, niche_id: worlds[1]!.nicheId } };
    const results = await own.leadAssignedBatch([eventA, await storedAssignment(b.leadId, b.eventId), early].map((event) => ({ event, attempt })));
    expect(results.slice(0, 2)).toEqual(['sent', 'sent']);
    expect(isMissingFactError(results[2])).toBe(true);
    expect(reads).toEqual([]);
    const text = (world: (typeof worlds)[number]) => peer.received.filter((m) => m.to.includes(world.providerEmail)).map((m) => m.text);
    expect(text(worlds[0]!).join()).toMatch(/Ana[\s\S]*Dallas|Dallas[\s\S]*Ana/);
    expect(text(worlds[1]!).join()).toMatch(/Bo[\s\S]*Houston|Houston[\s\S]*Bo/);

    await store.append(streams.lead(late), [{ id: randomUUID(), type: 'LeadApproved', data: (await store.readStream(streams.lead(b.leadId)))[0]!.data }], 'no_stream');
    expect(await own.leadAssignedBatch([{ event: early, attempt: { attempt: 2, maxAttempts: 3 } }])).toEqual(['sent']);
    expect(reads).toEqual([]);
  });

  it('a batch retry sends the content recorded on the first attempt, in a multipart message whose boundaries come from its Message-ID', async () => {
    const world = await seedWorld(store, undefined, { provider: 'First Name' });
    peer.refuseNext(2, 421);
    const { leadId, eventId } = await assignLead(store, world);
    const event = await storedAssignment(leadId, eventId);
    const [first] = await notifier.leadAssignedBatch([{ event, attempt: { attempt: 1, maxAttempts: 3 } }]);
    expect(String(first)).toMatch(/421/);
    peer.refuseNext(0);
    await db.pool.query(`update notification.providers set name = 'Second Name' where provider_id = $1`, [world.providerId]);
    expect(await notifier.leadAssignedBatch([{ event, attempt: { attempt: 2, maxAttempts: 3 } }])).toEqual(['sent']);
    const [mail] = peer.received.filter((m) => m.to.includes(world.providerEmail));
    expect(mail!.text).toContain('Hi First Name,');
    expect(mail!.html).toContain('Hi First Name,');
    const id = outboxId('lead_assigned', eventId);
    expect(mail!.headerLines.join('\n')).toContain(`boundary="--_NmP-${id.replaceAll('-', '')}fairleadnotification-Part_1"`);
    expect(await findOutbox(db.pool, id)).toMatchObject({ status: 'sent', attempts: 2 });
  });

  it('keeps the content recorded on the first attempt: a retry sends what was queued, not a re-render', async () => {
    const world = await seedWorld(store, undefined, { provider: 'Old Name' });
    // Two: a 421 on a kept-open connection is tried once more on a connection of its own (smtp/sender.ts), whose 421 fails the attempt.
    peer.refuseNext(2, 421);
    const { leadId, eventId } = await assignLead(store, world);
    const event = await storedAssignment(leadId, eventId);
    await expect(notifier.leadAssigned(event, { attempt: 1, maxAttempts: 3 })).rejects.toThrow(/421/);
    peer.refuseNext(0);
    await db.pool.query(`update notification.providers set name = 'New Name' where provider_id = $1`, [world.providerId]);
    expect(await notifier.leadAssigned(event, { attempt: 2, maxAttempts: 3 })).toBe('sent');
    const [mail] = peer.received.filter((m) => m.to.includes(world.providerEmail));
    expect(mail!.text).toContain('Hi Old Name,');
    expect(await findOutbox(db.pool, outboxId('lead_assigned', eventId))).toMatchObject({ status: 'sent', attempts: 2 });
  });
});
