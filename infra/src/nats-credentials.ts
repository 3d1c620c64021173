/**
 * `npm run nats:credentials -- <dir> [--namespace <ns>] [--bootstrap <nats-url>] [--replicas <n>]`:
 * the bus credentials of a deployment, written into `<dir>` (0700): one nkey seed per
 * identity (`<identity>.nk`, 0600), the cluster route password, and `nats-server.conf`, the
 * authorization block rendered from libs/contracts' permission table (start nats-server
 * with `-c <dir>/nats-server.conf`, or include it). Existing seeds are kept (delete one to
 * rotate it). `--bootstrap` then creates the streams as the admin identity.
 */
import { parseArgs } from 'node:util';
import { join } from 'node:path';
import { BUS_IDENTITIES } from '@fairlead/contracts';
import { bootstrapBus, ensureBusCredentials, writeNatsServerConfig } from '@fairlead/local-servers';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { namespace: { type: 'string', default: '' }, bootstrap: { type: 'string' }, replicas: { type: 'string', default: '1' }, 'tls-ca': { type: 'string' } },
});
const dir = positionals[0];
if (!dir || positionals.length > 1) {
  console.error('usage: npm run nats:credentials -- <dir> [--namespace <ns>] [--bootstrap <nats-url>] [--replicas <n>] [--tls-ca <ca.pem>]');
  process.exit(2);
}
if (!/^[A-Za-z0-9_-]*$/.test(values.namespace)) {
  console.error('--namespace: letters, digits, "_" and "-" only');
  process.exit(2);
}
const replicas = Number(values.replicas);
if (!Number.isInteger(replicas) || replicas < 1 || replicas > 5) {
  console.error('--replicas: 1 to 5');
  process.exit(2);
}

const bus = await ensureBusCredentials(dir);
const config = await writeNatsServerConfig(join(bus.dir, 'nats-server.conf'), bus, { namespace: values.namespace });
console.log(`nats-server configuration: ${config}  (nats-server -c ${config}; a cluster's nodes also need the route password in ${join(bus.dir, 'route-password')})`);
for (const identity of BUS_IDENTITIES) console.log(`  ${identity.padEnd(13)} NATS_NKEY_SEED_FILE=${bus.seedFile(identity)}  (public key ${bus.publicKeys[identity]})`);
if (values.bootstrap) {
  await bootstrapBus({ servers: values.bootstrap.split(','), adminSeed: bus.seed('admin'), namespace: values.namespace, replicas, ...(values['tls-ca'] ? { tlsCaFile: values['tls-ca'] } : {}) });
  console.log(`streams created or updated on ${values.bootstrap} as admin`);
}
process.exit(0);
