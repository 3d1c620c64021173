/**
 * The operator API in-process on the test run's PostgreSQL and NATS (a database and a
 * subject namespace of its own), with tokens minted for any role, and helpers to call it.
 */
import { randomBytes } from 'node:crypto';
import type { NatsConnection } from '@nats-io/nats-core';
import type { LightMyRequestResponse } from 'fastify';
import type { Subjects } from '@fairlead/contracts';
import type { NewEvent, PostgresEventStore } from '@fairlead/event-store';
import { mintToken, type Role } from '@fairlead/platform';
import { openTestEnvironment } from '@fairlead/service-testing';
import type { TestDatabase } from '@fairlead/testing';
import { startOperatorApi, type OperatorApi, type OperatorApiConfig } from '../service';

export const ISSUER = 'fairlead-test';
export const AUDIENCE = 'fairlead-operator-api-test';

export interface TokenOptions {
  mfa?: boolean;
  sub?: string;
  ttlSec?: number;
  /** Sign with another secret (a forged token). */
  secret?: string;
}

export interface ApiHarness {
  db: TestDatabase;
  store: PostgresEventStore;
  nc: NatsConnection;
  subjects: Subjects;
  api: OperatorApi;
  secret: string;
  token(roles: readonly Role[], options?: TokenOptions): Promise<string>;
  /** A request with a bearer token of these roles (MFA unless said otherwise). */
  call(method: string, url: string, options?: { roles?: readonly Role[]; token?: string; mfa?: boolean; sub?: string; body?: unknown; headers?: Record<string, string> }): Promise<LightMyRequestResponse>;
  append(stream: string, events: readonly NewEvent[]): Promise<void>;
  /** Appends and waits until every read model has applied it. */
  appendAndProject(stream: string, events: readonly NewEvent[]): Promise<void>;
  close(): Promise<void>;
}

export async function startApiHarness(label: string, config: OperatorApiConfig = {}): Promise<ApiHarness> {
  const env = await openTestEnvironment(label);
  const { db, store, nc, subjects } = env;
  const secret = randomBytes(32).toString('hex');
  const api = await startOperatorApi({
    pool: db.pool,
    store,
    nc,
    subjects,
    logger: env.logger,
    auth: { secret, issuer: ISSUER, audience: AUDIENCE },
    config: { rateLimitMax: 100_000, commandTimeoutMs: 2_000, ...config },
  });

  const token = (roles: readonly Role[], options: TokenOptions = {}) =>
    mintToken({ secret: options.secret ?? secret, issuer: ISSUER, audience: AUDIENCE, sub: options.sub ?? 'alice', roles, mfa: options.mfa ?? true, ttlSec: options.ttlSec ?? 600 });

  const harness: ApiHarness = {
    db,
    store,
    nc,
    subjects,
    api,
    secret,
    token,
    call: async (method, url, options = {}) => {
      const bearer = options.token ?? (options.roles ? await token(options.roles, { mfa: options.mfa ?? true, sub: options.sub ?? 'alice' }) : undefined);
      return api.app.inject({
        method: method as 'GET',
        url,
        headers: { ...(bearer ? { authorization: `Bearer ${bearer}` } : {}), ...options.headers },
        ...(options.body === undefined ? {} : { payload: options.body as Record<string, unknown> }),
      });
    },
    append: async (stream, events) => void (await store.append(stream, events, 'any')),
    appendAndProject: async (stream, events) => {
      await store.append(stream, events, 'any');
      await api.caughtUp();
    },
    close: async () => {
      await api.stop();
      await env.close();
    },
  };
  return harness;
}
