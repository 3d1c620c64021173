/** The operator API's environment, validated once at start-up. */
import { z } from 'zod';
import { baseConfigSchema, env } from '@fairlead/platform';
import { defaultSecretFile } from './auth/dev-secret';

export const operatorApiConfigSchema = baseConfigSchema
  .extend({
    SERVICE_NAME: baseConfigSchema.shape.SERVICE_NAME.default('operator-api'),
    HTTP_PORT: env.port().default(7100),
    /** HS256 secret for bearer tokens (at least 32 characters); or set JWT_JWKS_URL. */
    JWT_SECRET: z.string().min(32, 'at least 32 characters').optional(),
    /** Outside production, with neither JWT_SECRET nor JWT_JWKS_URL: the local development secret's file (created when missing). */
    JWT_SECRET_FILE: z.string().min(1).default(defaultSecretFile()),
    /** JWKS endpoint of the identity provider, for asymmetric tokens. */
    JWT_JWKS_URL: z.url().optional(),
    JWT_ISSUER: z.string().min(1).default('fairlead'),
    JWT_AUDIENCE: z.string().min(1).default('fairlead-operator-api'),
    /** Requests per client (token subject, else IP) per window. */
    RATE_LIMIT_MAX: z.coerce.number().int().positive().default(600),
    RATE_LIMIT_WINDOW_MS: env.durationMs().default(60_000),
    /** Behind a reverse proxy: trust X-Forwarded-For, so the rate limit applies per client, not per proxy. */
    HTTP_TRUST_PROXY: env.boolean().default(false),
    /** Timeout of each command sent to the owning service over NATS. */
    COMMAND_TIMEOUT_MS: env.durationMs().default(5_000),
    DATABASE_POOL_SIZE: z.coerce.number().int().positive().default(10),
  })
  .refine((c) => c.NODE_ENV !== 'production' || c.JWT_SECRET !== undefined || c.JWT_JWKS_URL !== undefined, {
    path: ['JWT_SECRET'],
    message: 'in production, set JWT_SECRET (HS256) or JWT_JWKS_URL',
  });
export type OperatorApiEnvConfig = z.output<typeof operatorApiConfigSchema>;
