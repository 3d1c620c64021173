/** The rotation process's environment, validated once at start-up. */
import { z } from 'zod';
import { baseConfigSchema, env } from '@fairlead/platform';

export const rotationConfigSchema = baseConfigSchema.extend({
  SERVICE_NAME: baseConfigSchema.shape.SERVICE_NAME.default('rotation'),
  HTTP_PORT: env.port().default(7102).describe('HTTP port of this service'),
  AUTO_DISTRIBUTE_DEFAULT: env.boolean().default(true).describe('auto_distribute of a niche created without one'),
  DATABASE_POOL_SIZE: z.coerce.number().int().positive().default(10).describe('PostgreSQL connections of this process (each niche write in flight uses up to two)'),
});
export type RotationEnvConfig = z.output<typeof rotationConfigSchema>;
