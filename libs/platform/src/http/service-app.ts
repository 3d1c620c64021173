/**
 * The HTTP app of a service process as one value: health, readiness, metrics, OpenAPI docs
 * and the service's own routes. serveService builds it to listen; the OpenAPI export builds
 * the same app with stand-ins for the service to read its document without starting it.
 */
import type { Registry } from 'prom-client';
import type { Logger } from '../logger';
import { registerMetricsRoute } from '../metrics';
import { createHttpApp, type HttpApp } from './app';
import { registerHttpMetrics } from './http-metrics';
import type { ReadinessCheck } from './readiness';

/** What a service shows over HTTP besides health, readiness, metrics and docs. */
export interface HttpSurface {
  /** OpenAPI title and description of the service's HTTP API. */
  title: string;
  description: string;
  /** Registers the service's own routes (after installing auth, when it has any). */
  routes?: (app: HttpApp) => void;
  /** Declare the bearer (JWT) and/or API key security schemes in the OpenAPI document. */
  securitySchemes?: { bearerAuth?: boolean; apiKeyAuth?: boolean };
  /** Set false when the service registers /metrics itself. */
  metricsRoute?: boolean;
}

export interface ServiceAppOptions extends HttpSurface {
  logger: Logger;
  serviceName: string;
  registry: Registry;
  readinessChecks?: readonly ReadinessCheck[];
  /** Origins whose browser pages may call the service (CORS); none by default. */
  corsOrigins?: readonly string[];
}

export async function createServiceApp(options: ServiceAppOptions): Promise<HttpApp> {
  const app = await createHttpApp({
    logger: options.logger,
    serviceName: options.serviceName,
    readinessChecks: options.readinessChecks ?? [],
    openapi: { title: options.title, version: '0.1.0', description: options.description, ...options.securitySchemes },
    ...(options.corsOrigins ? { corsOrigins: options.corsOrigins } : {}),
  });
  if (options.metricsRoute !== false) {
    registerHttpMetrics(app, options.registry);
    registerMetricsRoute(app, options.registry);
  }
  options.routes?.(app);
  return app;
}
