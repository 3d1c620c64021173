/**
 * The OpenAPI document of every service, made without starting any: each service's HTTP
 * app is built as its process builds it (the same surface, routes and plugins), with
 * stand-ins for what the routes would only touch when a request comes (database pool,
 * NATS connection, the running service). Nothing here connects anywhere; the stand-ins
 * throw if a route were ever called.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import type pg from 'pg';
import { subjectsFor } from '@fairlead/contracts';
import type { PostgresEventStore } from '@fairlead/event-store';
import { billingHttp } from '@fairlead/billing';
import { fairnessHttp } from '@fairlead/fairness';
import { intakeHttp } from '@fairlead/intake';
import { notificationHttp, registerNotificationRoutes } from '@fairlead/notification';
import { startOperatorApi } from '@fairlead/operator-api';
import { createApiKeyVerifier, parseApiKeys, createLogger, createMetricsRegistry, createServiceApp, createTokenVerifier, installAuth, registerHttpMetrics, registerMetricsRoute, type HttpApp, type HttpSurface } from '@fairlead/platform';
import { relayHttp } from '@fairlead/relay';
import { rotationHttp } from '@fairlead/rotation';
import { createTicketWorkflowApp } from '@fairlead/ticket-workflow';

export type OpenApiDocument = Record<string, unknown> & { openapi: string; paths: Record<string, Record<string, Record<string, unknown>>> };

/**
 * An object that refuses every use: proves the export never reaches the database or NATS.
 * `known`: plain values it may give (what is read at build time, e.g. a store's schema).
 */
function unusable<T>(what: string, known: Record<string, unknown> = {}): T {
  return new Proxy({}, { get: (_t, prop) => (prop === 'then' ? undefined : typeof prop === 'string' && Object.hasOwn(known, prop) ? known[prop] : () => { throw new Error(`${what}.${String(prop)} used while exporting OpenAPI`); }) }) as T;
}

/**
 * The only call made at build time: the JetStream manager's account check (`$JS.API.INFO`),
 * answered with an empty account. Any other request throws.
 */
function natsStandIn(): NatsConnection {
  const base = unusable<Record<string, unknown>>('nats');
  return new Proxy(
    {},
    {
      get: (_t, prop) => {
        if (prop === 'options') return { inboxPrefix: '_INBOX' };
        if (prop === 'request')
          return async (subject: string) => {
            if (subject.endsWith('.INFO')) return { data: new TextEncoder().encode('{}') };
            throw new Error(`nats.request(${subject}) used while exporting OpenAPI`);
          };
        return base[prop as string];
      },
    },
  ) as unknown as NatsConnection;
}

const silent = () => createLogger({ service: 'openapi-export', level: 'silent' });

async function surfaceApp(serviceName: string, surface: HttpSurface): Promise<HttpApp> {
  return createServiceApp({ ...surface, logger: silent(), serviceName, registry: createMetricsRegistry(serviceName) });
}

const notRunning = () => {
  throw new Error('the service is not running while exporting OpenAPI');
};

type Builder = () => Promise<HttpApp>;

const exportVerifier = createTokenVerifier({ secret: 'openapi-export-only-0123456789abcdef', issuer: 'fairlead', audience: 'fairlead' });

/** Every service with an HTTP API, by its name in services/. */
const BUILDERS: Record<string, Builder> = {
  'operator-api': async () => {
    const api = await startOperatorApi({
      pool: unusable<pg.Pool>('pool'),
      // Its schema is named at start (for the decision record's SQL); nothing is read.
      store: unusable<PostgresEventStore>('store', { schema: 'eventstore' }),
      nc: natsStandIn(),
      subjects: subjectsFor(''),
      logger: silent(),
      auth: { secret: 'openapi-export-only-0123456789abcdef', issuer: 'fairlead', audience: 'fairlead' },
      config: { declareStreams: false, projections: false },
    });
    return api.app;
  },
  intake: () => surfaceApp('intake', intakeHttp({ commands: unusable('commands'), stats: notRunning }, { verify: exportVerifier, apiKeys: createApiKeyVerifier(parseApiKeys(['openapi-export=openapi-export-only-0123456789abcdef'])) })),
  rotation: () => surfaceApp('rotation', rotationHttp),
  fairness: () => surfaceApp('fairness', fairnessHttp({ stats: notRunning })),
  billing: () => surfaceApp('billing', billingHttp),
  notification: () => {
    const registry = createMetricsRegistry('notification');
    return surfaceApp(
      'notification',
      notificationHttp({
        mode: 'catcher',
        catcher: undefined,
        stats: notRunning,
        // What the running service registers (service.ts registerRoutes).
        registerRoutes: (app) => {
          installAuth(app, exportVerifier, { prefix: '/v1/' });
          registerNotificationRoutes(app, { pool: unusable<pg.Pool>('pool') });
          registerHttpMetrics(app, registry);
          registerMetricsRoute(app, registry);
        },
      }, { verify: exportVerifier }),
    );
  },
  'ticket-workflow': async () => {
    const verifyToken = createTokenVerifier({ secret: 'openapi-export-only-0123456789abcdef', issuer: 'fairlead', audience: 'fairlead' });
    const { app } = await createTicketWorkflowApp({
      ctx: { store: unusable('store'), pool: unusable('pool'), schema: 'tickets', clock: () => new Date(), newId: notRunning, sync: unusable('sync') },
      logger: silent(),
      verifyToken,
      mcp: { verifyToken },
    });
    // As main.ts adds them.
    const registry = createMetricsRegistry('ticket-workflow');
    registerHttpMetrics(app, registry);
    registerMetricsRoute(app, registry);
    return app;
  },
  relay: () => surfaceApp('relay', relayHttp({ leader: () => false, status: () => undefined, stalled: () => null })),
};

export const SERVICES_WITH_OPENAPI = Object.keys(BUILDERS);

/** The document a service serves at /docs/json. */
export async function openApiDocument(service: string): Promise<OpenApiDocument> {
  const build = BUILDERS[service];
  if (!build) throw new Error(`No OpenAPI builder for ${service}; known: ${SERVICES_WITH_OPENAPI.join(', ')}`);
  const app = await build();
  try {
    await app.ready();
    return app.swagger() as unknown as OpenApiDocument;
  } finally {
    await app.close();
  }
}

export async function openApiDocuments(): Promise<Record<string, OpenApiDocument>> {
  const out: Record<string, OpenApiDocument> = {};
  for (const service of SERVICES_WITH_OPENAPI) out[service] = await openApiDocument(service);
  return out;
}
