/**
 * A per-client request limit for a service's HTTP surface (@fastify/rate-limit, keyed by
 * the client's address), answered with the platform's problem+json: 429 RATE_LIMITED.
 * Every operator-facing service installs it the same way; register it before the routes.
 */
import rateLimit from '@fastify/rate-limit';
import { AppError } from '../errors';
import type { HttpApp } from './app';

export interface RateLimitOptions {
  /** Requests one client may make per window (default 600). */
  max?: number;
  /** The window, in ms (default 60 000). */
  windowMs?: number;
}

export async function installRateLimit(app: HttpApp, options: RateLimitOptions = {}): Promise<void> {
  await app.register(rateLimit, {
    max: options.max ?? 600,
    timeWindow: options.windowMs ?? 60_000,
    keyGenerator: (request) => request.ip,
    errorResponseBuilder: (_request, context) =>
      new AppError('RATE_LIMITED', `Too many requests: at most ${context.max} per ${context.after}. Try again later.`, { status: 429, details: { limit: context.max } }),
  });
}
