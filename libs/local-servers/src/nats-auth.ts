/**
 * The bus's credentials, generated locally: one nkey seed per identity of libs/contracts'
 * permission table, a password for the routes between cluster nodes, and the
 * nats-server `authorization` block rendered from the table. `npm start`, the test setup
 * and `npm run nats:credentials` (for a deployment) write them the way the JWT
 * development secret is written: a directory only its owner may enter (0700), files only
 * its owner may read (0600), created once and kept (delete a file to rotate it).
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { BUS_IDENTITIES, BUS_PERMISSIONS, inboxPrefixOf, renderBusPermissions, subjectsFor, type BusIdentity } from '@fairlead/contracts';
import { connectNats, createNkeyIdentity, declareStreams, drainAndClose, fairleadStreams, publicKeyOfSeed } from '@fairlead/messaging';

export interface BusCredentials {
  /** The directory of the seeds and the server configuration. */
  dir: string;
  /** The file holding an identity's seed (what NATS_NKEY_SEED_FILE names). */
  seedFile(identity: BusIdentity): string;
  /** An identity's seed, for a process of this one (the test setup). */
  seed(identity: BusIdentity): string;
  publicKeys: Readonly<Record<BusIdentity, string>>;
  /** Credentials the cluster nodes' routes authenticate with. */
  route: { user: string; password: string };
}

const SEED_FILE_SUFFIX = '.nk';

/** Reads the credentials in `dir`, creating whatever is missing. */
export async function ensureBusCredentials(dir: string): Promise<BusCredentials> {
  const root = resolve(dir);
  await mkdir(root, { recursive: true, mode: 0o700 });
  // mkdir's mode is ignored for a directory that already exists (and filtered by umask).
  await chmod(root, 0o700);
  const seeds = {} as Record<BusIdentity, string>;
  for (const identity of BUS_IDENTITIES) {
    seeds[identity] = await loadOrCreate(join(root, `${identity}${SEED_FILE_SUFFIX}`), () => createNkeyIdentity().seed, (text) => /^SU[A-Z2-7]{56}$/.test(text));
  }
  const password = await loadOrCreate(join(root, 'route-password'), () => randomBytes(24).toString('base64url'), (text) => /^[A-Za-z0-9_-]{32,}$/.test(text));
  const publicKeys = Object.fromEntries(BUS_IDENTITIES.map((id) => [id, publicKeyOfSeed(seeds[id])])) as Record<BusIdentity, string>;
  return {
    dir: root,
    seedFile: (identity) => join(root, `${identity}${SEED_FILE_SUFFIX}`),
    seed: (identity) => seeds[identity],
    publicKeys,
    route: { user: 'fairlead-route', password },
  };
}

async function loadOrCreate(file: string, make: () => string, valid: (text: string) => boolean): Promise<string> {
  const existing = (await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? undefined : Promise.reject(error))))?.trim();
  if (existing !== undefined) {
    if (!valid(existing)) throw new Error(`${file} does not hold a usable credential; delete it to have a new one generated`);
    return existing;
  }
  const value = make();
  try {
    // 'wx': two processes starting at once must not overwrite each other's credential.
    await writeFile(file, `${value}\n`, { mode: 0o600, flag: 'wx' });
    return value;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return loadOrCreate(file, make, valid);
  }
}

export interface AuthorizationConfigOptions {
  /** NATS_NAMESPACE of the deployment ('' in production), or '*' for any namespace (the test server). */
  namespace?: string;
}

/**
 * nats-server's `authorization` block: every identity of the permission table as an nkey
 * user with its publish and subscribe allow lists. No user means no access: anonymous
 * connections are refused.
 */
export function natsAuthorizationConfig(credentials: Pick<BusCredentials, 'publicKeys'>, options: AuthorizationConfigOptions = {}): string {
  const permissions = renderBusPermissions({ namespace: options.namespace ?? '', inboxPrefix: (id) => inboxPrefixOf(credentials.publicKeys[id]) });
  const list = (subjects: readonly string[]) => `[${subjects.map((s) => JSON.stringify(s)).join(', ')}]`;
  const users = BUS_IDENTITIES.map((id) => {
    const p = permissions[id];
    return [
      `    # ${id}: ${BUS_PERMISSIONS[id].purpose}`,
      '    {',
      `      nkey: ${JSON.stringify(credentials.publicKeys[id])}`,
      '      permissions: {',
      `        publish: { allow: ${list(p.publish)} }`,
      `        subscribe: { allow: ${list(p.subscribe)} }`,
      ...(p.allowResponses ? ['        allow_responses: true'] : []),
      '      }',
      '    }',
    ].join('\n');
  });
  return [
    '# Written by Fairlead (infra/src/nats-auth.ts) from libs/contracts/src/bus-permissions.ts; edits are lost.',
    'authorization {',
    '  users: [',
    ...users,
    '  ]',
    '}',
    '',
  ].join('\n');
}

export interface TlsServerFiles {
  certFile: string;
  keyFile: string;
}

/** The server's TLS block: clients must speak TLS to this certificate. */
export function natsTlsConfig(tls: TlsServerFiles): string {
  return ['tls {', `  cert_file: ${JSON.stringify(tls.certFile)}`, `  key_file: ${JSON.stringify(tls.keyFile)}`, '}', ''].join('\n');
}

/** Writes the server's authorization configuration (mode 0600) and returns its path. */
export async function writeNatsServerConfig(file: string, credentials: BusCredentials, options: AuthorizationConfigOptions & { tls?: TlsServerFiles } = {}): Promise<string> {
  const text = natsAuthorizationConfig(credentials, options) + (options.tls ? natsTlsConfig(options.tls) : '');
  await writeFile(file, text, { mode: 0o600 });
  await chmod(file, 0o600);
  return file;
}

export interface BootstrapBusOptions {
  servers: readonly string[];
  /** The admin identity's seed: the only one allowed to create and update streams. */
  adminSeed: string;
  namespace?: string;
  replicas?: number;
  tlsCaFile?: string;
}

/**
 * Creates (or updates) Fairlead's streams as the admin identity, before any service
 * starts: services may only look streams up, never create or change them.
 */
export async function bootstrapBus(options: BootstrapBusOptions): Promise<void> {
  const nc = await connectNats({
    servers: [...options.servers],
    name: 'fairlead-bootstrap',
    credentials: { nkeySeed: options.adminSeed, tlsCaFile: options.tlsCaFile },
  });
  try {
    await declareStreams(await jetstreamManager(nc), fairleadStreams(subjectsFor(options.namespace ?? ''), { replicas: options.replicas ?? 1 }));
  } finally {
    await drainAndClose(nc);
  }
}

/** The bus identity a service process runs as (none for services that do not use NATS). */
export function busIdentityOfService(service: string): BusIdentity | undefined {
  return (BUS_IDENTITIES as readonly string[]).includes(service) && service !== 'admin' && service !== 'upstream' ? (service as BusIdentity) : undefined;
}
