/** The notification process's environment, validated once at start-up. */
import { z } from 'zod';
import { baseConfigSchema, env, jwtConfigSchema, jwtInProduction } from '@fairlead/platform';

const msList = env
  .list()
  .pipe(z.array(z.string().regex(/^\d+$/, 'a whole number of milliseconds').transform(Number)).min(1, 'at least one delay'));

export const notificationConfigSchema = baseConfigSchema
  .extend({
    SERVICE_NAME: baseConfigSchema.shape.SERVICE_NAME.default('notification'),
    HTTP_PORT: env.port().default(7105).describe('HTTP port of this service'),
    // JWT_SECRET, JWT_SECRET_FILE, JWT_JWKS_URL, JWT_ISSUER, JWT_AUDIENCE: the operator API's; /v1/mail and /v1/outbox need a token.
    ...jwtConfigSchema.shape,
    SMTP_URL: z
      .url({ protocol: /^smtps?$/, error: 'expected an smtp:// or smtps:// URL' })
      .optional()
      .describe('SMTP server (smtp://user:pass@host:587, smtps://host:465); unset: a local mail catcher keeps the mail'),
    SMTP_FROM: z.string().min(3).default('Fairlead <no-reply@fairlead.local>').describe('From header of every email'),
    SMTP_TIMEOUT_MS: env.durationMs().default(15_000).describe('limit of one SMTP conversation step (ms)'),
    MAIL_CATCHER_PORT: env.port().default(0).describe('SMTP port of the local mail catcher (only without SMTP_URL); 0 lets the OS choose'),
    EMAIL_TEMPLATES_DIR: z.string().min(1).optional().describe('directory whose template files replace the shipped ones, file by file'),
    RETRY_BACKOFF_MS: msList
      .default([10_000, 30_000, 60_000, 120_000, 300_000, 600_000, 1_800_000])
      .describe('delays before each retry of an email, in ms, comma separated (attempts = count + 1)'),
    EMAIL_CONCURRENCY: z.coerce.number().int().positive().default(4).describe('emails sent at once per consumer'),
    DATABASE_POOL_SIZE: z.coerce.number().int().positive().default(10).describe('PostgreSQL connections of this process'),
  })
  .refine(jwtInProduction.check, jwtInProduction.params);

export type NotificationEnvConfig = z.output<typeof notificationConfigSchema>;
