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

/** What every service reads. Services extend it: `baseConfigSchema.extend({ … })`. Each variable's `.describe()` text is its line in .env.example. */
export const baseConfigSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development').describe('production refuses development shortcuts (e.g. the local JWT secret)'),
  SERVICE_NAME: z
    .string()
    .regex(/^[a-z][a-z0-9-]*$/, 'lower-case letters, digits and dashes')
    .describe("the service's name in logs, metrics and problem types (each service defaults to its own; npm start sets it)"),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info').describe('pino log level: fatal, error, warn, info, debug, trace or silent'),
  DATABASE_URL: env.postgresUrl().describe('PostgreSQL of the event store and the read models (postgres://user:password@host:5432/db); each service logs in as its own role (docs/security.md#database)'),
  DATABASE_PASSWORD_FILE: z
    .string()
    .min(1)
    .optional()
    .describe("file whose first line is the database password, used instead of DATABASE_URL's (mode 0600; read at every new connection, so a rotated password needs no restart; npm start sets it)"),
  NATS_URL: env.natsServers().describe('NATS server(s) with JetStream, comma separated (nats://host:4222)'),
  NATS_NKEY_SEED_FILE: z
    .string()
    .min(1)
    .optional()
    .describe("file holding this service's NATS nkey seed (mode 0600): its identity on the bus, whose permissions docs/security.md lists; npm start generates one per service under the data directory"),
  NATS_NKEY_SEED: z
    .string()
    .regex(/^SU[A-Z2-7]{56}$/, 'a user nkey seed: "SU" and 56 base32 characters')
    .optional()
    .describe('the NATS nkey seed itself, when a file is not an option (NATS_NKEY_SEED_FILE wins when both are set)'),
  NATS_TLS_CA_FILE: z
    .string()
    .min(1)
    .optional()
    .describe("PEM file of the CA that signed the NATS server's certificate; set, connections require TLS (tls:// URLs require it with the system's CAs)"),
  NATS_STREAM_REPLICAS: z.coerce
    .number({ error: 'expected a number of replicas' })
    .int()
    .min(1)
    .max(5)
    .default(1)
    .describe('replicas of the JetStream streams a service declares: 1 on one server, 3 on a three-node cluster'),
  NATS_NAMESPACE: z
    .string()
    .regex(/^[A-Za-z0-9_-]*$/, 'letters, digits, "_" and "-" only')
    .default('')
    .describe('prefix of every subject and stream name (empty in production; tests use their own)'),
  HTTP_HOST: z.string().min(1).default('127.0.0.1').describe('address the HTTP server binds (loopback by default; containers set 0.0.0.0)'),
  HTTP_PORT: env.port().default(8080).describe('HTTP port (each service defaults to its own; npm start sets it from FAIRLEAD_<SERVICE>_PORT)'),
  HTTP_CORS_ORIGINS: env
    .list()
    .pipe(z.array(z.string().regex(/^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/, 'an origin: http(s)://host[:port], no path')))
    .default([])
    .describe('origins whose browser pages may call the service\'s HTTP API (CORS), comma separated: http(s)://host[:port]; none by default'),
  SHUTDOWN_TIMEOUT_MS: env.durationMs().default(10_000).describe('how long a graceful shutdown may take before the process exits anyway (ms)'),
  EVENT_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(16 * 1024)
    .default(DEFAULT_MAX_EVENT_BYTES)
    .describe('largest event the event store accepts, in bytes of its data and metadata as JSON; keep it 64 KiB under the NATS max_payload so the relay can publish every event (docs/limits.md)'),
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

/** One environment variable of a configuration schema, for .env.example and help texts. */
export interface ConfigVariable {
  name: string;
  /** The schema's `.describe()` text. */
  description: string | undefined;
  /** Without a default and not optional: the process does not start without it. */
  required: boolean;
  /** The default as one would write it in the environment (lists comma separated). */
  default: string | undefined;
}

function envText(value: unknown): string {
  if (Array.isArray(value)) return value.map(envText).join(',');
  return String(value);
}

/**
 * The variables of a configuration schema (a zod object, refined or not), in order, with
 * their description and default: what .env.example lists. A default can be shown other
 * than it is computed with `.meta({ envDefault })` (e.g. a path under the data directory).
 */
export function describeConfig(schema: z.ZodObject): ConfigVariable[] {
  return Object.entries(schema.shape as Record<string, z.ZodType>).map(([name, field]) => {
    let current: z.ZodType | undefined = field;
    let description: string | undefined;
    let shown: string | undefined;
    let byDefault: unknown;
    let hasDefault = false;
    let optional = false;
    while (current) {
      description ??= current.description;
      const meta = z.globalRegistry.get(current) as { envDefault?: unknown } | undefined;
      if (shown === undefined && typeof meta?.envDefault === 'string') shown = meta.envDefault;
      if (current instanceof z.ZodDefault) {
        if (!hasDefault) byDefault = current.def.defaultValue;
        hasDefault = true;
        current = current.def.innerType as z.ZodType;
      } else if (current instanceof z.ZodOptional) {
        optional = true;
        current = current.def.innerType as z.ZodType;
      } else if (current instanceof z.ZodPipe) {
        current = current.def.in as z.ZodType;
      } else {
        current = undefined;
      }
    }
    return { name, description, required: !hasDefault && !optional, default: shown ?? (hasDefault ? envText(byDefault) : undefined) };
  });
}

