import { readFileSync } from 'node:fs';
import { nkeyAuthenticator, nkeys, type NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { inboxPrefixOf } from '@fairlead/contracts';
import { componentLogger } from './logger';

/**
 * Who a connection is and how it reaches the server. nats-server knows each identity by
 * the public key of its nkey (libs/contracts' bus-permissions.ts says what each may do).
 */
export interface NatsCredentials {
  /** The identity's nkey seed (`SU…`): the secret the connection signs the server's nonce with. */
  nkeySeed?: string | undefined;
  /** PEM file of the CA that signed the server's certificate; set, the connection requires TLS. */
  tlsCaFile?: string | undefined;
  /** Require TLS with the system's CAs (a `tls://` URL). */
  tls?: boolean | undefined;
}

/** The environment variables of the credentials, as every service's configuration names them. */
export interface NatsCredentialsEnv {
  NATS_NKEY_SEED_FILE?: string | undefined;
  NATS_NKEY_SEED?: string | undefined;
  NATS_TLS_CA_FILE?: string | undefined;
}

const SEED = /^SU[A-Z2-7]{56}$/;

/** Reads the credentials the environment names (a seed file wins over a seed in the environment). */
export function natsCredentialsFrom(env: Readonly<NatsCredentialsEnv>): NatsCredentials {
  let seed = env.NATS_NKEY_SEED?.trim() || undefined;
  if (env.NATS_NKEY_SEED_FILE) {
    try {
      seed = readFileSync(env.NATS_NKEY_SEED_FILE, 'utf8').trim();
    } catch (error) {
      throw new Error(`cannot read the NATS seed file NATS_NKEY_SEED_FILE=${env.NATS_NKEY_SEED_FILE}: ${(error as Error).message}`, { cause: error });
    }
  }
  // Never echo the value: it is a secret.
  if (seed !== undefined && !SEED.test(seed)) throw new Error('the NATS nkey seed is not a user seed (expected "SU" and 56 base32 characters)');
  return { nkeySeed: seed, tlsCaFile: env.NATS_TLS_CA_FILE || undefined };
}

/** The public key (`U…`) of a user seed: what nats-server's configuration names. */
export function publicKeyOfSeed(seed: string): string {
  return nkeys.fromSeed(new TextEncoder().encode(seed)).getPublicKey();
}

/** A new user identity: its seed (keep it secret) and public key. */
export function createNkeyIdentity(): { seed: string; publicKey: string } {
  const pair = nkeys.createUser();
  return { seed: new TextDecoder().decode(pair.getSeed()), publicKey: pair.getPublicKey() };
}

export interface ConnectNatsOptions {
  /** One or more server URLs (`nats://host:port`). */
  servers: string | string[];
  /** Connection name shown in server monitoring; use the service name. */
  name: string;
  /** Receives connection status changes; silent when omitted. */
  logger?: Logger;
  /** Wait between reconnect attempts to the same server (default 1000 ms). */
  reconnectTimeWaitMs?: number;
  /**
   * Identity and TLS. Left out, they come from the process environment
   * (NATS_NKEY_SEED_FILE, NATS_NKEY_SEED, NATS_TLS_CA_FILE), as PostgreSQL's client reads
   * PGPASSWORD: tools, tests and benchmarks then connect as whoever their environment says.
   */
  credentials?: NatsCredentials;
  /** Keep trying until the first connection succeeds (default true); false fails after `timeoutMs` instead (a probe). */
  waitOnFirstConnect?: boolean;
  /** How long one connection attempt may take (nats.js' default: 20 s). */
  timeoutMs?: number;
}

/**
 * Connects and stays connected: reconnects forever (a broker outage must pause a
 * service, never end it) and logs every status change.
 */
export async function connectNats(options: ConnectNatsOptions): Promise<NatsConnection> {
  const logger = componentLogger(options.logger, { component: 'nats', connection: options.name });
  const servers = Array.isArray(options.servers) ? options.servers : [options.servers];
  const credentials = options.credentials ?? natsCredentialsFrom(process.env);
  const seed = credentials.nkeySeed;
  const wantsTls = credentials.tls === true || credentials.tlsCaFile !== undefined || servers.some((s) => s.trim().startsWith('tls://'));
  if (seed === undefined) logger.debug('connecting to NATS without an identity (servers with authorization refuse this)');
  const nc = await connect({
    servers,
    name: options.name,
    ...(seed !== undefined
      ? {
          authenticator: nkeyAuthenticator(new TextEncoder().encode(seed)),
          // Replies (and JetStream's answers) to this identity come under its own prefix,
          // the only inbox subjects its permissions let it read.
          inboxPrefix: inboxPrefixOf(publicKeyOfSeed(seed)),
        }
      : {}),
    ...(wantsTls ? { tls: credentials.tlsCaFile !== undefined ? { caFile: credentials.tlsCaFile } : {} } : {}),
    maxReconnectAttempts: -1,
    reconnectTimeWait: options.reconnectTimeWaitMs ?? 1_000,
    reconnectJitter: 100,
    // A service may start before the broker; keep trying instead of failing start-up.
    waitOnFirstConnect: options.waitOnFirstConnect ?? true,
    ...(options.timeoutMs !== undefined ? { timeout: options.timeoutMs } : {}),
    // Otherwise every request and JetStream publish captures two stack traces up front (a
    // RequestError and a TimeoutError) in case it fails: a sixth of the relay's CPU under
    // load (bench:distribution profile). Errors keep their type and message; our wrappers
    // (RequestTimeoutError, PublishFailedError) name the subject.
    noAsyncTraces: true,
  });
  logger.info({ server: nc.getServer() }, 'nats connected');
  void (async () => {
    for await (const status of nc.status()) {
      switch (status.type) {
        case 'disconnect':
          logger.warn({ server: status.server }, 'nats disconnected');
          break;
        case 'reconnect':
          logger.info({ server: status.server }, 'nats reconnected');
          break;
        case 'error':
          logger.error({ err: status.error }, 'nats error');
          break;
        case 'ldm':
          logger.warn({ server: status.server }, 'nats server entering lame duck mode');
          break;
        case 'slowConsumer':
          logger.warn({ subject: status.sub.getSubject(), pending: status.pending }, 'nats slow consumer');
          break;
        case 'staleConnection':
          logger.warn('nats stale connection');
          break;
        case 'close':
          logger.info('nats connection closed');
          break;
        default:
          logger.debug({ status: status.type }, 'nats status');
      }
    }
  })().catch((err: unknown) => logger.error({ err }, 'nats status watcher failed'));
  return nc;
}

/**
 * Graceful shutdown: drains (subscriptions stop receiving, in-flight messages are
 * handled, pending publishes and acks are flushed), then closes. Stop consumer runners
 * and request servers first so their handlers finish before the connection goes.
 */
export async function drainAndClose(nc: NatsConnection): Promise<void> {
  if (nc.isClosed()) return;
  if (!nc.isDraining()) {
    await nc.drain();
  }
  await nc.closed();
}
