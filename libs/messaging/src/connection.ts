import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { componentLogger } from './logger';

export interface ConnectNatsOptions {
  /** One or more server URLs (`nats://host:port`). */
  servers: string | string[];
  /** Connection name shown in server monitoring; use the service name. */
  name: string;
  /** Receives connection status changes; silent when omitted. */
  logger?: Logger;
  /** Wait between reconnect attempts to the same server (default 1000 ms). */
  reconnectTimeWaitMs?: number;
}

/**
 * Connects and stays connected: reconnects forever (a broker outage must pause a
 * service, never end it) and logs every status change.
 */
export async function connectNats(options: ConnectNatsOptions): Promise<NatsConnection> {
  const logger = componentLogger(options.logger, { component: 'nats', connection: options.name });
  const nc = await connect({
    servers: options.servers,
    name: options.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: options.reconnectTimeWaitMs ?? 1_000,
    reconnectJitter: 100,
    // A service may start before the broker; keep trying instead of failing start-up.
    waitOnFirstConnect: true,
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
