/**
 * `node dist/fairlead-bootstrap/main.js <step> <secrets root>`, docker-compose.yml's two
 * credential one-shots (see secrets.ts):
 *   credentials  before nats: the bus seeds and nats-server.conf (fairlead-credentials)
 *   servers      once PostgreSQL and nats are healthy: database roles and grants as the
 *                admin of DATABASE_ADMIN_URL, then the streams as the bus's admin identity
 *                over NATS_URL (fairlead-bootstrap)
 * Exit codes: 0 done, 64 wrong usage or configuration, 1 anything else (a server refusing).
 */
import { isAbsolute } from 'node:path';
import { z } from 'zod';
import { bootstrapServers, prepareBusSecrets } from './secrets';

class UsageError extends Error {}

const serversEnvSchema = z.object({
  DATABASE_ADMIN_URL: z.url({ protocol: /^postgres(ql)?$/, error: 'DATABASE_ADMIN_URL: expected a postgres:// URL of the admin' }),
  NATS_URL: z.string().min(1, 'NATS_URL: the nats server(s), comma separated'),
  NATS_NAMESPACE: z.string().regex(/^[A-Za-z0-9_-]*$/).default(''),
  NATS_STREAM_REPLICAS: z.coerce.number().int().min(1).max(5).default(1),
});

async function main(args: readonly string[]): Promise<unknown> {
  const [step, root, ...rest] = args;
  if (!root || rest.length > 0 || !isAbsolute(root) || (step !== 'credentials' && step !== 'servers')) {
    throw new UsageError('usage: fairlead-bootstrap credentials|servers <absolute secrets directory>');
  }
  if (step === 'credentials') return prepareBusSecrets(root, process.env.NATS_NAMESPACE ?? '');
  const env = serversEnvSchema.safeParse(process.env);
  if (!env.success) throw new UsageError(env.error.issues.map((i) => i.message).join('; '));
  const { passwords } = await bootstrapServers(root, {
    databaseAdminUrl: env.data.DATABASE_ADMIN_URL,
    natsServers: env.data.NATS_URL.split(','),
    namespace: env.data.NATS_NAMESPACE,
    replicas: env.data.NATS_STREAM_REPLICAS,
  });
  return { services: Object.keys(passwords) };
}

try {
  const done = await main(process.argv.slice(2));
  console.log(JSON.stringify({ msg: `fairlead-bootstrap ${process.argv[2]}: done`, ...(done as object) }));
  process.exit(0);
} catch (error) {
  console.error(`fairlead-bootstrap: ${(error as Error).message}`);
  process.exit(error instanceof UsageError ? 64 : 1);
}
