/**
 * Shared set-up of this library's integration tests (not exported from index.ts): a
 * connection, the Fairlead streams under a namespace of the test file's own, and a
 * way to read a stream back.
 */
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager, type StoredMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { subjectsFor, type Subjects } from '@fairlead/contracts';
import { testNamespace } from '@fairlead/testing';
import { connectNats, drainAndClose } from './connection';
import { declareStreams } from './declarations';
import { fairleadStreams } from './fairlead-streams';

export interface MessagingFixture {
  subjects: Subjects;
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  /** Deletes this file's streams and closes the connection. */
  dispose(): Promise<void>;
}

export async function messagingFixture(label: string, servers: string): Promise<MessagingFixture> {
  const subjects = subjectsFor(testNamespace(label));
  const nc = await connectNats({ servers, name: `test-${label}`, reconnectTimeWaitMs: 100 });
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  await declareStreams(jsm, fairleadStreams(subjects));
  return {
    subjects,
    nc,
    js,
    jsm,
    dispose: async () => {
      for (const name of Object.values(subjects.streams)) await jsm.streams.delete(name).catch(() => undefined);
      await drainAndClose(nc);
    },
  };
}

/**
 * The options of a runner of `durable` on the fixture's work stream (the messages published
 * under `${subjects.work}.${durable}.…`), dead letters to the fixture's dead-letter subjects.
 */
export function workConsumer(f: Pick<MessagingFixture, 'js' | 'jsm' | 'subjects'>, durable: string) {
  return {
    js: f.js,
    jsm: f.jsm,
    stream: f.subjects.streams.work,
    durable,
    filterSubject: `${f.subjects.work}.${durable}.>`,
    deadLetter: { subjectFor: f.subjects.deadLetterSubject },
  };
}

/** Every message stored in a stream now, in sequence order. */
export async function readStream(jsm: JetStreamManager, stream: string): Promise<StoredMsg[]> {
  const { state } = await jsm.streams.info(stream);
  const out: StoredMsg[] = [];
  if (state.messages === 0) return out;
  for (let seq = state.first_seq; seq <= state.last_seq; seq++) {
    const msg = await jsm.streams.getMessage(stream, { seq }).catch(() => null);
    if (msg) out.push(msg);
  }
  return out;
}

/** A promise the test settles by hand. */
export function gate(): { promise: Promise<void>; open(): void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}
