/**
 * What only the `fairlead` CLI reads from the environment (its lines in .env.example).
 * Besides these it reads what npm start and the services read: DATABASE_URL,
 * EVENT_STORE_SCHEMA, FAIRLEAD_DATA_DIR, FAIRLEAD_PG_PORT, the port variables, JWT_*.
 */
import { z } from 'zod';

export const cliEnvSchema = z.object({
  FAIRLEAD_API_URL: z
    .url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' })
    .optional()
    .describe('the operator API of `fairlead projections` (default: the one npm start runs, http://127.0.0.1:<FAIRLEAD_HTTP_PORT_BASE>)'),
  FAIRLEAD_TOKEN: z
    .string()
    .min(1)
    .optional()
    .describe('bearer token of `fairlead projections` (default: a short-lived one minted from JWT_SECRET or the local development secret)'),
});
