/**
 * Sends email over SMTP with nodemailer, configured by one URL
 * (`smtp://user:pass@host:587`, `smtps://…:465`), over a small pool of kept-open
 * connections: a connection per message cost a TCP connect, the greeting, EHLO and QUIT
 * for every email (2.5 times the CPU per email of a kept-open one, client and mail catcher
 * together). nodemailer's pool drops a connection that fails or that the server closes and
 * opens a new one for the next message, so a server that went away and came back needs
 * nothing from us; a message caught in a closing connection is sent again over a new one.
 *
 * The service's emails go as one string built by mime.ts (the bytes MailComposer would
 * write): MailComposer's streams cost more CPU than the rest of nodemailer's send, and wrote a
 * message to the socket in nine writes (the catcher, in the same process, read it in six).
 */
import { PassThrough, type Readable } from 'node:stream';
import nodemailer from 'nodemailer';
import { buildAlternativeMessage, fromHeader } from './mime';

export interface OutgoingMail {
  from: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  /** Message-ID header, stable across retries so a receiver can drop a duplicate. */
  messageId: string;
}

export interface SendResult {
  /** The server's final reply (`250 OK: queued as …`). */
  response: string;
  messageId: string;
}

export interface MailSender {
  send(mail: OutgoingMail): Promise<SendResult>;
  close(): void;
}

export interface SmtpSenderOptions {
  /** `smtp://` or `smtps://` URL; credentials and `?secure=`, `?ignoreTLS=` query options are nodemailer's. */
  url: string;
  /** Connect, greeting and socket inactivity limit of one send (default 15 000 ms). */
  timeoutMs?: number;
  /** Connections kept open at most (default 5); sends beyond wait for one. */
  maxConnections?: number;
}

export function createSmtpSender({ url, timeoutMs = 15_000, maxConnections = 5 }: SmtpSenderOptions): MailSender {
  // The content is ours (rendered templates): nothing in a message may make nodemailer read a file or fetch a URL.
  const common = { connectionTimeout: timeoutMs, greetingTimeout: timeoutMs, socketTimeout: timeoutMs, disableFileAccess: true, disableUrlAccess: true };
  const pooled = nodemailer.createTransport({
    url,
    pool: true,
    maxConnections,
    // A connection is replaced after this many messages (nodemailer's default), so a long-lived one never
    // outlives a server-side limit on messages per connection.
    maxMessages: 100,
    // No resending by the pool: a message whose kept-open connection the server closed goes once over a new
    // connection below, whose answer (e.g. 421) is what the caller sees.
    maxRequeues: 0,
    ...common,
  });
  // A connection per message, as before the pool: for a message the pool lost with its connection.
  const single = nodemailer.createTransport({ url, ...common });
  const composed = (mail: OutgoingMail) => ({
    from: mail.from,
    to: mail.to,
    subject: mail.subject,
    text: mail.text,
    html: mail.html,
    messageId: mail.messageId,
    // The multipart boundaries' unique part from the Message-ID (unique per email) instead of 8 random bytes drawn
    // for each MIME part (three per email).
    baseBoundary: boundaryOf(mail.messageId),
  });
  // The From header of each sender address, written once (mime.ts); undefined: MailComposer writes the messages.
  const froms = new Map<string, ReturnType<typeof fromHeader>>();
  /** The message as one string, the bytes MailComposer would write (mime.ts), with its envelope; undefined: not that shape. */
  const rawOf = (mail: OutgoingMail): { raw: string; envelope: Envelope } | undefined => {
    let from = froms.get(mail.from);
    if (!froms.has(mail.from)) froms.set(mail.from, (from = fromHeader(mail.from)));
    const baseBoundary = boundaryOf(mail.messageId);
    const raw = from && baseBoundary ? buildAlternativeMessage({ ...mail, baseBoundary, date: new Date() }, from.line) : undefined;
    return raw === undefined ? undefined : { raw, envelope: { from: from!.address, to: [mail.to] } };
  };
  const pool = pooled.transporter as unknown as PoolTransport;
  const sendPooled = (mail: OutgoingMail): Promise<{ response: string }> => {
    const built = rawOf(mail);
    if (!built) return pooled.sendMail(composed(mail));
    return new Promise((resolve, reject) => {
      pool.send(poolMail(built.raw, built.envelope, mail.messageId), (error, info) => (error ? reject(error) : resolve(info!)));
    });
  };
  return {
    send: async (mail) => {
      const info = await sendPooled(mail).catch((error: unknown) => {
        // The server closed the kept-open connection (idle too long, or it answered 421 and hung up): no
        // verdict on this email, which goes once more over a connection of its own.
        if ((error as { code?: unknown } | null)?.code === 'ECONNECTION') {
          const built = rawOf(mail);
          return single.sendMail(built ? { raw: built.raw, envelope: { ...built.envelope }, messageId: mail.messageId } : composed(mail));
        }
        throw error;
      });
      return { response: info.response, messageId: mail.messageId };
    },
    close: () => {
      pooled.close();
      single.close();
    },
  };
}

interface Envelope {
  from: string;
  to: string[];
}

/**
 * A message as nodemailer's pool transport takes it (the transport API of nodemailer's
 * custom transports: `send(mail, callback)`, `mail.message` a MimeNode): the part of
 * MimeNode the pool and its connections read — the envelope, the Message-ID (for its log)
 * and the message stream (a stream not read yet: the pool may tell it was never sent).
 * Mail.sendMail would wrap a raw message in a MailMessage and a MimeNode first, and stream it
 * through a pipeline of its own (an AbortController and an AbortError per message):
 * more CPU per email than the rest of the send. notify/outbox tests send through it (421, 451,
 * 550, a closed connection, the server down).
 */
function poolMail(raw: string, envelope: Envelope, messageId: string): PoolMail {
  return {
    data: {},
    message: {
      getEnvelope: () => ({ from: envelope.from, to: [...envelope.to] }),
      messageId: () => messageId,
      getHeader: (key) => (key.toLowerCase() === 'message-id' ? messageId : undefined),
      createReadStream: () => {
        const stream = new PassThrough();
        stream.end(raw);
        return stream;
      },
    },
  };
}

interface PoolMail {
  data: Record<string, never>;
  message: {
    getEnvelope(): Envelope;
    messageId(): string;
    getHeader(key: string): string | undefined;
    createReadStream(): Readable;
  };
}

interface PoolTransport {
  send(mail: PoolMail, callback: (error: Error | null, info?: { response: string }) => void): unknown;
}

/** The letters and digits of a Message-ID (`<3f2a…@fairlead.notification>` → `3f2a…fairleadnotification`). */
export function boundaryOf(messageId: string): string | undefined {
  const unique = messageId.replace(/[^0-9A-Za-z]/g, '');
  return unique.length >= 16 ? unique : undefined;
}

/**
 * A 5xx reply (unknown mailbox, message refused) will be the same on every retry; a
 * 4xx reply or a connection failure may pass later.
 */
export function isPermanentSmtpFailure(error: unknown): boolean {
  const code = (error as { responseCode?: unknown } | null)?.responseCode;
  return typeof code === 'number' && code >= 500 && code < 600;
}

/** The part of an SMTP failure worth keeping in the outbox (no stack, bounded). */
export function describeSmtpFailure(error: unknown): string {
  const e = error as { code?: unknown; responseCode?: unknown; response?: unknown; message?: unknown } | null;
  const parts = [
    typeof e?.code === 'string' ? e.code : undefined,
    typeof e?.responseCode === 'number' ? String(e.responseCode) : undefined,
    typeof e?.response === 'string' ? e.response : typeof e?.message === 'string' ? e.message : String(error),
  ].filter(Boolean);
  return parts.join(' ').slice(0, 2000);
}
