/**
 * Sends email over SMTP with nodemailer, configured by one URL
 * (`smtp://user:pass@host:587`, `smtps://…:465`). One connection per message: a
 * server that went away and came back needs nothing from us to be used again.
 */
import nodemailer from 'nodemailer';

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
}

export function createSmtpSender({ url, timeoutMs = 15_000 }: SmtpSenderOptions): MailSender {
  const transport = nodemailer.createTransport({ url, connectionTimeout: timeoutMs, greetingTimeout: timeoutMs, socketTimeout: timeoutMs });
  return {
    send: async (mail) => {
      const info = await transport.sendMail({
        from: mail.from,
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
        messageId: mail.messageId,
      });
      return { response: info.response, messageId: info.messageId };
    },
    close: () => transport.close(),
  };
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
