import { AckPolicy, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';
import { testNatsUrl } from '@fairlead/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { declareConsumer, declareStreams, DeclarationError } from './declarations';
import { fairleadStreams } from './fairlead-streams';
import { messagingFixture, type MessagingFixture } from './test-support';

describe('stream and consumer declarations', () => {
  let f: MessagingFixture;
  beforeAll(async () => {
    // The fixture declares the standard streams once already.
    f = await messagingFixture('decl', testNatsUrl());
  });
  afterAll(async () => {
    await f.dispose();
  });

  it('creates the standard streams with their retention, storage and dedupe window', async () => {
    const work = await f.jsm.streams.info(f.subjects.streams.work);
    expect(work.config.retention).toBe(RetentionPolicy.Workqueue);
    expect(work.config.subjects).toEqual([`${f.subjects.work}.>`]);
    const events = await f.jsm.streams.info(f.subjects.streams.events);
    expect(events.config.storage).toBe(StorageType.File);
    expect(events.config.duplicate_window).toBeGreaterThanOrEqual(nanos(120_000));
    const dlq = await f.jsm.streams.info(f.subjects.streams.deadLetters);
    expect(dlq.config.retention).toBe(RetentionPolicy.Limits);
    expect(dlq.config.subjects).toEqual([`${f.subjects.deadLetter}.>`]);
    const intake = await f.jsm.streams.info(f.subjects.streams.leadIntake);
    expect(intake.config.subjects).toEqual([f.subjects.leadApproved]);
  });

  it('is idempotent: declaring the same streams again changes nothing', async () => {
    const results = await declareStreams(f.jsm, fairleadStreams(f.subjects));
    expect(results.map((r) => r.action)).toEqual(['unchanged', 'unchanged', 'unchanged', 'unchanged']);
  });

  it('updates a stream whose declared values differ, and only reports those keys', async () => {
    const results = await declareStreams(f.jsm, fairleadStreams(f.subjects, { duplicateWindowMs: 10 * 60_000 }));
    expect(results.map((r) => r.action)).toEqual(['updated', 'updated', 'updated', 'updated']);
    expect(results[1]?.changed).toEqual(['duplicate_window']);
    const events = await f.jsm.streams.info(f.subjects.streams.events);
    expect(events.config.duplicate_window).toBe(nanos(10 * 60_000));
    expect((await declareStreams(f.jsm, fairleadStreams(f.subjects, { duplicateWindowMs: 10 * 60_000 })))[1]?.action).toBe('unchanged');
  });

  it('refuses a change the server forbids with a typed error', async () => {
    const [events] = fairleadStreams(f.subjects).filter((s) => s.name === f.subjects.streams.events);
    await expect(declareStreams(f.jsm, [{ ...events!, retention: RetentionPolicy.Workqueue }])).rejects.toSatisfy(
      (e) => e instanceof DeclarationError && e.code === 'MESSAGING_DECLARATION_FAILED',
    );
  });

  it('creates, keeps and updates a durable consumer', async () => {
    const declaration = {
      stream: f.subjects.streams.work,
      config: { durable_name: 'decl-consumer', filter_subject: `${f.subjects.work}.decl.>`, ack_policy: AckPolicy.Explicit, ack_wait: nanos(10_000), max_deliver: -1 },
    };
    expect((await declareConsumer(f.jsm, declaration)).action).toBe('created');
    expect((await declareConsumer(f.jsm, declaration)).action).toBe('unchanged');
    const updated = await declareConsumer(f.jsm, { ...declaration, config: { ...declaration.config, ack_wait: nanos(20_000) } });
    expect(updated).toEqual({ name: 'decl-consumer', action: 'updated', changed: ['ack_wait'] });
    const info = await f.jsm.consumers.info(f.subjects.streams.work, 'decl-consumer');
    expect(info.config.ack_wait).toBe(nanos(20_000));
    expect(info.config.filter_subject).toBe(`${f.subjects.work}.decl.>`);
  });
});
