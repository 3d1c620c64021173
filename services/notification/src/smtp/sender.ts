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
  const mailOf = (mail: OutgoingMail) => {
    let from = froms.get(mail.from);
    if (!froms.has(mail.from)) froms.set(mail.from, (from = fromHeader(mail.from)));
    const baseBoundary = boundaryOf(mail.messageId);
    // The message as one string, the bytes MailComposer would write (mime.ts), sent as is with its envelope.
    const raw = from && baseBoundary ? buildAlternativeMessage({ ...mail, baseBoundary, date: new Date() }, from.line) : undefined;
    return raw === undefined ? composed(mail) : { envelope: { from: from!.address, to: [mail.to] }, raw, messageId: mail.messageId };
  };
  return {
    send: async (mail) => {
      const info = await pooled.sendMail(mailOf(mail)).catch((error: unknown) => {
        // The server closed the kept-open connection (idle too long, or it answered 421 and hung up): no
        // verdict on this email, which goes once more over a connection of its own.
        if ((error as { code?: unknown } | null)?.code === 'ECONNECTION') return single.sendMail(mailOf(mail));
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
