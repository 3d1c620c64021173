import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { randomUUID } from 'node:crypto';
import type { Subjects } from '@fairlead/contracts';
import type { EventStore, NewEvent, PostgresEventStore } from '@fairlead/event-store';
import { openTestEnvironment } from '@fairlead/service-testing';
import type { TestDatabase } from '@fairlead/testing';

/** What a relay test runs against: a database of its own, the store, NATS and a namespace with the Fairlead streams. */
export interface RelayTestEnvironment {
  db: TestDatabase;
  store: PostgresEventStore;
  nc: NatsConnection;
  jsm: JetStreamManager;
  subjects: Subjects;
  /** Deletes the streams, closes NATS and the store, drops the database. */
  close(): Promise<void>;
}

export async function openRelayTestEnvironment(label: string): Promise<RelayTestEnvironment> {
  const { db, store, nc, jsm, subjects, close } = await openTestEnvironment(label, { declareStreams: true, connectionName: `${label}-test` });
  return { db, store, nc, jsm, subjects, close };
}

/** Appends `streams × perStream` events, `chunk` events per append call. */
export async function appendMany(store: EventStore, { streams, perStream, chunk = 50, category = 'item' }: { streams: number; perStream: number; chunk?: number; category?: string }): Promise<string[]> {
  const ids: string[] = [];
  await Promise.all(
    Array.from({ length: streams }, async (_, s) => {
      for (let done = 0; done < perStream; done += chunk) {
        const events: NewEvent[] = Array.from({ length: Math.min(chunk, perStream - done) }, (_, i) => ({
          id: randomUUID(),
          type: 'ItemRecorded',
          data: { stream: s, n: done + i },
        }));
        await store.append(`${category}-${s}`, events, 'any');
        ids.push(...events.map((e) => e.id));
      }
    }),
  );
  return ids;
}

export async function streamMessageCount(jsm: JetStreamManager, stream: string): Promise<number> {
  const info = await jsm.streams.info(stream);
  return info.state.messages;
}

/** Every message of a JetStream stream: its Nats-Msg-Id header and body. */
export async function readAllMessages(nc: NatsConnection, stream: string): Promise<Array<{ msgId: string; subject: string; body: Record<string, unknown> }>> {
  const jsm = await jetstreamManager(nc);
  const total = await streamMessageCount(jsm, stream);
  const consumer = await jetstream(nc).consumers.get(stream);
  const out: Array<{ msgId: string; subject: string; body: Record<string, unknown> }> = [];
  if (total === 0) return out;
  const messages = await consumer.consume();
  for await (const m of messages) {
    out.push({ msgId: m.headers?.get('Nats-Msg-Id') ?? '', subject: m.subject, body: m.json<Record<string, unknown>>() });
    if (out.length >= total) break;
  }
  await messages.close();
  return out;
}
