/**
 * One LISTEN connection per store, shared by its subscriptions. It reconnects (with
 * backoff) when the connection drops, and wakes every subscriber after reconnecting,
 * since notifications sent while it was away are lost.
 */
import type pg from 'pg';
import { quoteIdentifier } from '../identifiers';
import { notifiedCategories } from './notifier';

/** A dedicated connection and how to give it back (destroying it after an error). */
export interface ListenConnection {
  client: pg.ClientBase;
  dispose(error?: Error): Promise<void>;
}

export interface NotificationListenerOptions {
  connect: () => Promise<ListenConnection>;
  channel: string;
  /** Delay before the first reconnection attempt; doubles up to maxRetryMs. */
  retryMs?: number;
  maxRetryMs?: number;
  /** Reports connection failures (the listener keeps retrying). */
  onError?: (error: Error) => void;
}

export class NotificationListener {
  private readonly wakers = new Set<(categories?: readonly string[]) => void>();
  private connection: ListenConnection | undefined;
  private running = false;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryMs: number;

  constructor(private readonly options: NotificationListenerOptions) {
    this.retryMs = options.retryMs ?? 100;
  }

  /**
   * Registers a wake-up callback, called with the categories a commit names (undefined: any
   * may have changed — a reconnect, a commit that did not say); starts listening on first
   * use. Returns the unregister function.
   */
  register(wake: (categories?: readonly string[]) => void): () => void {
    this.wakers.add(wake);
    if (!this.running && !this.stopped) {
      this.running = true;
      void this.connect();
    }
    return () => this.wakers.delete(wake);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    const connection = this.connection;
    this.connection = undefined;
    await connection?.dispose().catch(() => undefined);
  }

  private wakeAll(categories?: readonly string[]): void {
    for (const wake of this.wakers) wake(categories);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    let connection: ListenConnection | undefined;
    try {
      connection = await this.options.connect();
      const client = connection.client;
      let lost = false;
      const onLost = (error?: Error) => {
        if (lost) return;
        lost = true;
        client.removeListener('notification', onNotification);
        if (this.connection === connection) this.connection = undefined;
        void connection!.dispose(error ?? new Error('LISTEN connection ended')).catch(() => undefined);
        if (error) this.options.onError?.(error);
        this.scheduleReconnect();
      };
      const onNotification = (message: pg.Notification) => this.wakeAll(notifiedCategories(message.payload));
      client.on('notification', onNotification);
      client.on('error', (error: Error) => onLost(error));
      client.on('end', () => onLost());
      await client.query(`listen ${quoteIdentifier(this.options.channel, 'channel')}`);
      if (this.stopped) {
        await connection.dispose();
        return;
      }
      this.connection = connection;
      this.retryMs = this.options.retryMs ?? 100;
      // Anything committed while no LISTEN was active went unannounced.
      this.wakeAll();
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      await connection?.dispose(failure).catch(() => undefined);
      this.options.onError?.(failure);
      this.scheduleReconnect();
    }
  }

  private scheduleReconnect(): void {
    if (this.stopped || this.retryTimer !== undefined) return;
    const delay = this.retryMs;
    this.retryMs = Math.min(this.retryMs * 2, this.options.maxRetryMs ?? 5_000);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.connect();
    }, delay);
  }
}
