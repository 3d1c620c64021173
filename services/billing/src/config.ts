/** The billing process's environment, validated once at start-up. */
import { z } from 'zod';
import { baseConfigSchema, env } from '@fairlead/platform';

export const billingConfigSchema = baseConfigSchema.extend({
  SERVICE_NAME: baseConfigSchema.shape.SERVICE_NAME.default('billing'),
  HTTP_PORT: env.port().default(7104).describe('HTTP port of this service'),
  DATABASE_POOL_SIZE: z.coerce.number().int().positive().default(12).describe("PostgreSQL connections of this process (projectors and the event store's listener use some)"),
});
export type BillingEnvConfig = z.output<typeof billingConfigSchema>;
