/**
 * Runs the intake service in-process against the test run's PostgreSQL and NATS (fresh
 * database and namespace per file), with its HTTP routes on an app for `inject`, and a
 * stand-in for rotation's `get_niche`: a real NATS responder answering from a map, which
 * a test can stop to make rotation unreachable. (The real rotation answers in the
 * end-to-end suite; a service's tests never import another service.)
 */
import { randomUUID } from 'node:crypto';
import { jetstream, type JetStreamClient, type JetStreamManager, type StoredMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { intakeCommands, rotationCommands, streams, type CommandReply, type Subjects } from '@fairlead/contracts';
import type { PostgresEventStore, StoredEvent } from '@fairlead/event-store';
import { request, serveRequests, type RequestServer } from '@fairlead/messaging';
import { createApiKeyVerifier, createHttpApp, createTokenVerifier, mintToken, parseApiKeys, type HttpApp, type Role } from '@fairlead/platform';
import { openTestEnvironment } from '@fairlead/service-testing';
import type { TestDatabase } from '@fairlead/testing';
import { registerIntakeRoutes, type IntakeHttpAuth } from '../http/routes';
import { startIntakeService, type IntakeConfig, type IntakeService } from '../service';

export class TestNiches {
  readonly niches = new Map<string, boolean>();
  /** get_niche requests answered so far, found or not (what intake's niche cache saves). */
  requests = 0;
  private server: RequestServer | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly subjects: Subjects,
  ) {}

  /** A niche rotation knows, with its auto_distribute flag. */
  add(nicheId: string, autoDistribute: boolean): void {
    this.niches.set(nicheId, autoDistribute);
  }

  start(): void {
    this.server ??= serveRequests(this.nc, this.subjects.command('rotation', 'get_niche'), {
      requestSchema: rotationCommands.get_niche.request,
      handler: ({ niche_id }): CommandReply<'rotation', 'get_niche'> => {
        this.requests += 1;
        const auto = this.niches.get(niche_id);
        if (auto === undefined) throw Object.assign(new Error(`niche ${niche_id} does not exist`), { code: 'NICHE_NOT_FOUND' });
        return { niche_id, name: niche_id, auto_distribute: auto, levels: [], next_start_order_position: 1, version: 0 };
      },
    });
  }

  async stop(): Promise<void> {
    await this.server?.stop();
    this.server = undefined;
  }
}

const jwt = { secret: `intake-test-secret-${randomUUID()}`, issuer: 'fairlead', audience: 'fairlead-operator-api' };
/** The upstream API key the harness's routes accept (named `test`). */
export const TEST_UPSTREAM_KEY = `intake-test-upstream-key-${randomUUID()}`;
/** Headers of an upstream system submitting leads. */
export const upstreamHeaders = Object.freeze({ 'x-api-key': TEST_UPSTREAM_KEY });

/** The credentials intake's HTTP routes check in tests. */
export function testHttpAuth(): IntakeHttpAuth {
  return { verify: createTokenVerifier(jwt), apiKeys: createApiKeyVerifier(parseApiKeys([`test=${TEST_UPSTREAM_KEY}`])) };
}

/** An operator JWT the harness's routes accept (operator with MFA unless told otherwise). */
export function operatorToken(options: { sub?: string; roles?: Role[]; mfa?: boolean } = {}): Promise<string> {
  return mintToken({ ...jwt, sub: options.sub ?? 'ops@fairlead', roles: options.roles ?? ['operator'], mfa: options.mfa ?? true, ttlSec: 600 });
}

export interface IntakeHarness {
  db: TestDatabase;
  store: PostgresEventStore;
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  subjects: Subjects;
  niches: TestNiches;
  service: IntakeService;
  app: HttpApp;
  command<V extends keyof typeof intakeCommands>(verb: V, body: unknown): Promise<CommandReply<'intake', V>>;
  leadEvents(leadId: string): Promise<StoredEvent[]>;
  /** Every event of the given stream categories, in global order. */
  eventsOf(category: string): Promise<StoredEvent[]>;
  deadLetters(): Promise<StoredMsg[]>;
  close(): Promise<void>;
}

export async function startIntakeHarness(label: string, config: IntakeConfig = {}): Promise<IntakeHarness> {
  const env = await openTestEnvironment(label);
  const { db, store, subjects, nc, jsm, logger } = env;
  const js = jetstream(nc);
  const niches = new TestNiches(nc, subjects);
  niches.start();
  const service = await startIntakeService({ pool: db.pool, store, nc, subjects, logger, config: { backoffMs: [100, 200, 400], ...config } });
  const app = await createHttpApp({ logger, serviceName: 'intake', openapi: { title: 'intake (test)', version: '0' } });
  registerIntakeRoutes(app, service.commands, testHttpAuth());
  await app.ready();

  return {
    db,
    store,
    nc,
    js,
    jsm,
    subjects,
    niches,
    service,
    app,
    command: (verb, body) => request(nc, subjects.command('intake', verb), body, { responseSchema: intakeCommands[verb].reply as never, timeoutMs: 10_000 }),
    leadEvents: (leadId) => store.readStream(streams.lead(leadId)),
    eventsOf: async (category) => {
      const out: StoredEvent[] = [];
      let from = { transactionId: 0n, globalPosition: 0n };
      for (;;) {
        const batch = await store.readAll(from, 500, { categories: [category] });
        out.push(...batch.events);
        if (batch.checkpoint.globalPosition === from.globalPosition && batch.checkpoint.transactionId === from.transactionId) return out;
        from = batch.checkpoint;
      }
    },
    deadLetters: async () => {
      const { state } = await jsm.streams.info(subjects.streams.deadLetters);
      const out: StoredMsg[] = [];
      for (let seq = state.first_seq; state.messages > 0 && seq <= state.last_seq; seq++) {
        const msg = await jsm.streams.getMessage(subjects.streams.deadLetters, { seq }).catch(() => null);
        if (msg) out.push(msg);
      }
      return out;
    },
    close: async () => {
      await app.close();
      await service.stop();
      await niches.stop();
      await env.close();
    },
  };
}

/** A valid `lead.approved` v1 payload. */
export function leadPayload(leadId: string, nicheId: string): Record<string, unknown> {
  return {
    schema_version: 1,
    lead_id: leadId,
    niche_id: nicheId,
    approved_at: '2025-03-14T09:26:53.589+01:00',
    consumer: { name: 'Ada Lovelace', email: 'ada@example.com' },
    location: { postal_code: '73301', state: 'tx', city: 'Austin' },
    details: { roof: 'shingle' },
  };
}
