/** What `npm run db:bootstrap` reads: a deployment's admin connection and where the role passwords are. */
import { z } from 'zod';

export const dbBootstrapConfigSchema = z.object({
  DATABASE_ADMIN_URL: z
    .url({ protocol: /^postgres(ql)?$/, error: 'expected a postgres:// or postgresql:// URL' })
    .describe('db:bootstrap only: the database as an admin (a superuser, or a role with CREATEROLE that owns the database), e.g. postgres://admin@db:5432/fairlead'),
  DATABASE_ADMIN_PASSWORD_FILE: z.string().min(1).optional().describe("db:bootstrap only: file holding the admin's password, instead of the URL's"),
  FAIRLEAD_DB_PASSWORDS_DIR: z
    .string()
    .min(1)
    .describe('db:bootstrap only: directory of the roles\' password files, <role>.password (mode 0600; a missing one is generated); each service reads its own as DATABASE_PASSWORD_FILE'),
});
export type DbBootstrapConfig = z.output<typeof dbBootstrapConfigSchema>;
