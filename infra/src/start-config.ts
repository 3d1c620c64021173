/** What `npm start` reads from its environment (and .env), validated once. */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { servicePorts, servicePortsSchema } from './services';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

const localPort = () => z.coerce.number().int().min(1024).max(65535);

export const startConfigSchema = z.object({
  DATABASE_URL: z.string().url().optional().describe('use this PostgreSQL instead of starting the embedded one'),
  NATS_URL: z.string().optional().describe('use this NATS (with JetStream) instead of starting a local nats-server'),
  FAIRLEAD_DATA_DIR: z
    .string()
    .default(resolve(repoRoot, '.data'))
    .meta({ description: 'where the local servers keep their data (and the development JWT secret)', envDefault: '.data' }),
  FAIRLEAD_PG_PORT: localPort().default(54329).describe('port of the embedded PostgreSQL'),
  FAIRLEAD_NATS_PORT: localPort().default(42229).describe('port of the local nats-server'),
  FAIRLEAD_NATS_CLUSTER: z.coerce
    .number()
    .int()
    .refine((n) => n === 1 || n === 3 || n === 5, 'expected 1, 3 or 5 nodes')
    .default(1)
    .describe('nodes of the local nats-server: 3 (or 5) starts a local cluster whose streams have three replicas'),
  FAIRLEAD_REPLICAS: z.coerce
    .number()
    .int()
    .min(1)
    .max(5)
    .default(1)
    .describe('processes per service npm start runs (ports of replica n: the first replica\'s + 10 × (n − 1))'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info').describe('log level of every service npm start runs'),
  FAIRLEAD_WATCH: z
    .enum(['true', 'false', '1', '0'])
    .default('false')
    .transform((v) => v === 'true' || v === '1')
    .describe('restart a service when one of its source files changes (node --watch; `npm run dev` sets it)'),
  ...servicePortsSchema.shape,
}).superRefine((config, ctx) => {
  // Two services on one port: said with the other configuration problems, before anything starts.
  try {
    servicePorts(Object.fromEntries(Object.entries(config).map(([k, v]) => [k, v === undefined ? undefined : String(v)])));
  } catch (error) {
    // A malformed port is already an issue of its own variable.
    if (!(error instanceof z.ZodError)) ctx.addIssue({ code: 'custom', path: ['FAIRLEAD_HTTP_PORT_BASE'], message: (error as Error).message });
  }
});
export type StartConfig = z.output<typeof startConfigSchema>;
