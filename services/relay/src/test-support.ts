import { jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { randomUUID } from 'node:crypto';
import type { EventStore, NewEvent } from '@fairlead/event-store';

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
