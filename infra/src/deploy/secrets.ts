/**
 * The credentials docker-compose.yml's services run with, on the secrets volume
 * (`fairlead-secrets`, mounted at SECRETS_ROOT by the one-shots only):
 *
 *   bus/<identity>.nk, bus/route-password     every bus identity's nkey seed (admin's too)
 *   nats-server/nats-server.conf              nats's authorization block (nats mounts this folder)
 *   database/<role>.password                  every database role's password
 *   services/<service>/nats.nk                a service's own seed        } each service mounts
 *   services/<service>/database.password      a service's own password    } its folder only
 *   services/fairlead/database.password       the operator CLI's role's password (compose's `fairlead` tool)
 *
 * Everything is owner-only (0700 folders, 0600 files) and generated here, never in the
 * repository. Existing credentials are kept (delete one, and run again, to rotate it).
 */
import { chmod, copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { SERVICE_BUS_IDENTITIES } from '@fairlead/contracts';
import { bootstrapBus, bootstrapDatabase, DATABASE_ROLES, ensureBusCredentials, ensureDatabaseRoles, OPERATOR_CLI_ROLE, writeNatsServerConfig } from '@fairlead/local-servers/deployment';
import { loadOrCreateSecretFile } from '@fairlead/platform';

/** Where the one-shots mount the secrets volume (the image makes it the service user's). */
export const SECRETS_ROOT = '/var/lib/fairlead-secrets';
/** Where a service finds its own folder of the secrets volume (read-only). */
export const SERVICE_SECRETS_DIR = '/run/fairlead';
export const SEED_FILE_NAME = 'nats.nk';
export const PASSWORD_FILE_NAME = 'database.password';
export const NATS_CONFIG_DIR = 'nats-server';
export const NATS_CONFIG_FILE = 'nats-server.conf';

/** The secrets volume's folder of one service (what its `subpath` mount names). */
export const serviceSecretsSubpath = (service: string) => `services/${service}`;

/** The services that log in to the database, with their roles (the operator CLI is no service: OPERATOR_CLI_SECRETS). */
export const SERVICE_DATABASE_ROLES: ReadonlyArray<{ service: string; role: string }> = DATABASE_ROLES.filter((r) => r.role !== OPERATOR_CLI_ROLE).map((r) => ({ service: r.usedBy, role: r.role }));

/**
 * The operator's `fairlead` command, docker-compose.yml's `fairlead` tool (`docker compose run
 * --rm fairlead verify`): a folder of its own with its role's password (it logs in as the
 * operator CLI's role, never as the operator API's), and no bus identity (it talks to
 * PostgreSQL, and to the operator API over HTTP).
 */
export const OPERATOR_CLI_SECRETS: Readonly<{ service: string; role: string }> = Object.freeze({ service: 'fairlead', role: OPERATOR_CLI_ROLE });

/** Everyone given a password in a folder of their own: the services, then the operator CLI. */
const PASSWORD_HOLDERS = [...SERVICE_DATABASE_ROLES, OPERATOR_CLI_SECRETS];

async function ownerOnlyDir(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  return dir;
}

/** Copies a credential into a service's folder, owner-only (overwriting an older copy: the source is the truth). */
async function giveToService(root: string, service: string, source: string, name: string): Promise<string> {
  const target = join(await ownerOnlyDir(join(root, serviceSecretsSubpath(service))), name);
  await copyFile(source, target);
  await chmod(target, 0o600);
  return target;
}

/**
 * Step 1, before nats starts: the bus identities' seeds, nats-server.conf rendered from the
 * permission table, each NATS-using service's own seed in its folder, and a folder for every
 * service and the operator CLI (compose mounts it by `subpath`, which must exist).
 */
export async function prepareBusSecrets(root: string, namespace = ''): Promise<{ config: string; seeds: Record<string, string> }> {
  await ownerOnlyDir(root);
  const bus = await ensureBusCredentials(join(root, 'bus'));
  const config = await writeNatsServerConfig(join(await ownerOnlyDir(join(root, NATS_CONFIG_DIR)), NATS_CONFIG_FILE), bus, { namespace });
  const seeds: Record<string, string> = {};
  for (const identity of SERVICE_BUS_IDENTITIES) seeds[identity] = await giveToService(root, identity, bus.seedFile(identity), SEED_FILE_NAME);
  for (const { service } of PASSWORD_HOLDERS) await ownerOnlyDir(join(root, serviceSecretsSubpath(service)));
  return { config, seeds };
}

export interface BootstrapServersOptions {
  /** PostgreSQL as its admin (docker-compose.yml: POSTGRES_USER with POSTGRES_PASSWORD). */
  databaseAdminUrl: string;
  natsServers: readonly string[];
  namespace?: string;
  replicas?: number;
}

/**
 * Step 2, once PostgreSQL and nats are healthy, before any service starts: the database's
 * roles, schemas and grants as its admin (each service's password then copied to its
 * folder), and the streams as the bus's admin identity (services may not create them).
 */
export async function bootstrapServers(root: string, options: BootstrapServersOptions): Promise<{ passwords: Record<string, string> }> {
  const dir = await ownerOnlyDir(join(root, 'database'));
  const passwordFile = (role: string) => join(dir, `${role}.password`);
  await ensureDatabaseRoles(options.databaseAdminUrl, (role) => loadOrCreateSecretFile(passwordFile(role)));
  await bootstrapDatabase(options.databaseAdminUrl);
  const passwords: Record<string, string> = {};
  for (const { service, role } of PASSWORD_HOLDERS) passwords[service] = await giveToService(root, service, passwordFile(role), PASSWORD_FILE_NAME);
  const bus = await ensureBusCredentials(join(root, 'bus'));
  await bootstrapBus({ servers: options.natsServers, adminSeed: bus.seed('admin'), namespace: options.namespace ?? '', replicas: options.replicas ?? 1 });
  return { passwords };
}
