/**
 * A local mail catcher for machines without an SMTP server (`npm start` on a fresh
 * clone): an SMTP server on loopback that accepts every message and stores it in
 * `notification.caught_mail`, where the HTTP API lists it. Not a relay: nothing leaves.
 */
import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import type pg from 'pg';
import type { Logger } from 'pino';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';

export interface MailCatcherOptions {
  pool: pg.Pool;
  logger: Logger;
  /** Loopback by default: the catcher accepts anything, so it must not face a network. */
  host?: string;
  /** 0 (default) lets the OS choose; the chosen port is in `port`. */
  port?: number;
  /** Largest message accepted, in bytes (default 10 MiB). */
  maxBytes?: number;
}

export interface MailCatcher {
  readonly host: string;
  readonly port: number;
  /** The SMTP URL to send to it. */
  readonly url: string;
  stop(): Promise<void>;
}

export async function startMailCatcher(options: MailCatcherOptions): Promise<MailCatcher> {
  const { pool, logger } = options;
  const host = options.host ?? '127.0.0.1';
  const maxBytes = options.maxBytes ?? 10 * 1024 * 1024;

  const server = new SMTPServer({
    name: 'fairlead-mail-catcher',
    banner: 'Fairlead mail catcher (messages are stored, never delivered)',
    // Plain SMTP on loopback: no certificate to manage, nothing to authenticate.
    disabledCommands: ['STARTTLS', 'AUTH'],
    authOptional: true,
    size: maxBytes,
    logger: false,
    onData: (stream, session, callback) => {
      store(stream, session).then(
        (id) => callback(null, `stored as ${id}`),
        (error: unknown) => {
          logger.error({ err: error }, 'mail catcher could not store a message');
          // 451: the sender keeps the message and tries again later.
          callback(Object.assign(new Error('temporary failure storing the message'), { responseCode: 451 }));
        },
      );
    },
  });
  server.on('error', (err) => logger.warn({ err }, 'mail catcher connection error'));

  async function store(stream: SMTPServerDataStream, session: SMTPServerSession): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    if (stream.sizeExceeded) throw Object.assign(new Error(`message larger than ${maxBytes} bytes`), { responseCode: 552 });
    const raw = Buffer.concat(chunks);
    const parsed = await simpleParser(raw);
    const { mailFrom, rcptTo } = session.envelope;
    const { rows } = await pool.query<{ id: string }>(
      `insert into notification.caught_mail (envelope_from, envelope_to, subject, message_id, text_body, html_body, headers, size_bytes, raw)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9) returning id::text`,
      [
        mailFrom ? mailFrom.address : null,
        rcptTo.map((r) => r.address),
        parsed.subject ?? null,
        parsed.messageId ?? null,
        parsed.text ?? null,
        typeof parsed.html === 'string' ? parsed.html : null,
        JSON.stringify(parsed.headerLines.map((h) => h.line)),
        raw.length,
        raw.toString('utf8'),
      ],
    );
    const id = rows[0]!.id;
    logger.info({ id, to: rcptTo.map((r) => r.address), subject: parsed.subject }, 'mail caught');
    return id;
  }

  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.server.off('error', reject);
      resolve();
    });
  });
  const port = (server.server.address() as AddressInfo).port;
  return {
    host,
    port,
    url: `smtp://${host}:${port}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
