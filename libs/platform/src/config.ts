/**
 * Configuration comes from the environment, is validated once at start-up, and is
 * frozen: the rest of the code reads a typed object, never `process.env`.
 */
import { z } from 'zod';
import { DEFAULT_MAX_EVENT_BYTES } from '@fairlead/event-store';
import { AppError } from './errors';

export type DeepReadonly<T> = T extends (...args: never[]) => unknown
  ? T
  : T extends ReadonlyArray<infer U>
    ? ReadonlyArray<DeepReadonly<U>>
    : T extends object
      ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
      : T;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Reusable environment variable types; each reads the string an env var holds. */
export const env = {
  /** `true/false`, `1/0`, `yes/no`, `on/off` (z.coerce.boolean would read "false" as true). */
  boolean: () =>
    z
      .string()
      .trim()
      .toLowerCase()
      .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no', 'on', 'off'], { error: 'expected true or false' }))
      .transform((v) => v === 'true' || v === '1' || v === 'yes' || v === 'on'),
  /** A TCP port; 0 asks the OS for a free one. */
  port: () => z.coerce.number({ error: 'expected a port number' }).int().min(0).max(65535),
  /** A positive whole number of milliseconds. */
  durationMs: () => z.coerce.number({ error: 'expected a number of milliseconds' }).int().positive(),
  /** A PostgreSQL connection URL. */
  postgresUrl: () =>
    z.url({ protocol: /^postgres(ql)?$/, error: 'expected a postgres:// or postgresql:// URL' }),
  /** One or more NATS server URLs, comma separated (`nats://a:4222,nats://b:4222`). */
  natsServers: () =>
    z.string().refine(
      (value) =>
        value.split(',').every((entry) => {
          const s = entry.trim();
          if (s === '') return false;
          try {
            const url = new URL(s.includes('://') ? s : `nats://${s}`);
            return ['nats:', 'tls:', 'ws:', 'wss:'].includes(url.protocol) && url.hostname !== '';
          } catch {
            return false;
          }
        }),
      { error: 'expected nats:// URLs (comma separated)' },
    ),
  /** A comma separated list of non-empty strings. */
  list: () =>
    z.string().transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== ''),
    ),
};

/** What every service reads. Services extend it: `baseConfigSchema.extend({ … })`. */
export const baseConfigSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  /** The service's name in logs, metrics and problem types. */
  SERVICE_NAME: z.string().regex(/^[a-z][a-z0-9-]*$/, 'lower-case letters, digits and dashes'),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  DATABASE_URL: env.postgresUrl(),
  NATS_URL: env.natsServers(),
  /** Replicas of the JetStream streams a service declares: 1 on one server, 3 on a three-node cluster. */
  NATS_STREAM_REPLICAS: z.coerce.number({ error: 'expected a number of replicas' }).int().min(1).max(5).default(1),
  /** Prefix of every subject and stream name (empty in production; tests use their own). */
  NATS_NAMESPACE: z
    .string()
    .regex(/^[A-Za-z0-9_-]*$/, 'letters, digits, "_" and "-" only')
    .default(''),
  /** Loopback by default; containers set 0.0.0.0. */
  HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  HTTP_PORT: env.port().default(8080),
  /** How long a graceful shutdown may take before the process exits anyway. */
  SHUTDOWN_TIMEOUT_MS: env.durationMs().default(10_000),
  /**
   * Largest event the event store accepts (bytes of its data and metadata as JSON). Keep it
   * 64 KiB under the NATS server's max_payload, so the relay can publish every event (docs/limits.md).
   */
  EVENT_MAX_BYTES: z.coerce.number().int().min(16 * 1024).default(DEFAULT_MAX_EVENT_BYTES),
});
export type BaseConfig = DeepReadonly<z.output<typeof baseConfigSchema>>;

export interface ConfigProblem {
  variable: string;
  problem: string;
}

/** The environment does not make a valid configuration; lists every problem at once. */
export class ConfigError extends AppError {
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    const lines = problems.map((p) => `  ${p.variable}: ${p.problem}`).join('\n');
    super('CONFIG_INVALID', `invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${lines}`);
    this.name = 'ConfigError';
    this.problems = Object.freeze([...problems]);
  }
}

/**
 * Validates the environment against `schema`, once. An empty variable counts as unset
 * (so defaults apply). Throws a ConfigError naming every missing or invalid variable —
 * never their values, which may be secrets. Returns a deeply frozen object.
 */
export function loadConfig<S extends z.ZodType<unknown, Record<string, unknown>>>(
  schema: S,
  environment: Readonly<Record<string, string | undefined>> = process.env,
): DeepReadonly<z.output<S>> {
  const input: Record<string, string> = {};
  for (const [key, value] of Object.entries(environment)) if (value !== undefined && value !== '') input[key] = value;
  const result = schema.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const variable = issue.path.map(String).join('.') || '(environment)';
      const missing = issue.path.length === 1 && input[String(issue.path[0])] === undefined;
      return { variable, problem: missing ? 'missing (required)' : issue.message };
    });
    throw new ConfigError(problems);
  }
  return deepFreeze(result.data) as DeepReadonly<z.output<S>>;
}

export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Reflect.ownKeys(value)) deepFreeze((value as Record<PropertyKey, unknown>)[key]);
  }
  return value;
}
