/**
 * A real SMTP server for tests (the `smtp-server` package on a loopback port): records
 * what it receives, can refuse with a 4xx or 5xx reply, and can go down and come back
 * on the same port.
 */
import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  from: string;
  to: string[];
  subject: string;
  text: string;
  html: string;
  messageId: string;
  /** The header lines as received (folded lines kept folded). */
  headerLines: string[];
}

export interface SmtpPeer {
  readonly url: string;
  readonly port: number;
  readonly received: ReceivedMail[];
  /** Connection attempts that reached the server (refused ones included). */
  readonly conversations: number;
  /** Refuse the next `count` messages at MAIL FROM with this reply code. */
  refuseNext(count: number, code?: number): void;
  /**
   * Keep the next message's DATA unanswered until `release()`: the sender stays in the
   * middle of its SMTP conversation. `arrived` resolves once that message is being held.
   */
  holdNext(): { arrived: Promise<void>; release(): void };
  /** Stop listening: senders get "connection refused". */
  down(): Promise<void>;
  /** Listen again on the same port. */
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startSmtpPeer(): Promise<SmtpPeer> {
  const received: ReceivedMail[] = [];
  let refusals = 0;
  let refusalCode = 451;
  let conversations = 0;
  let port = 0;
  let server: SMTPServer | undefined;
  let hold: { arrived: () => void; released: Promise<void> } | undefined;

  const create = () =>
    new SMTPServer({
      disabledCommands: ['STARTTLS', 'AUTH'],
      authOptional: true,
      logger: false,
      onConnect: (_session, callback) => {
        conversations++;
        callback();
      },
      onMailFrom: (_address, _session, callback) => {
        if (refusals > 0) {
          refusals--;
          callback(Object.assign(new Error(refusalCode < 500 ? 'try again later' : 'mailbox unavailable'), { responseCode: refusalCode }));
          return;
        }
        callback();
      },
      onData: (stream, session, callback) => {
        const held = hold;
        hold = undefined;
        held?.arrived();
        Promise.all([simpleParser(stream), held?.released]).then(
          ([mail]) => {
            received.push({
              from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              to: session.envelope.rcptTo.map((r) => r.address),
              subject: mail.subject ?? '',
              text: mail.text ?? '',
              html: typeof mail.html === 'string' ? mail.html : '',
              messageId: mail.messageId ?? '',
              headerLines: mail.headerLines.map((h) => h.line),
            });
            callback(null, 'accepted by the test peer');
          },
          (error: Error) => callback(error),
        );
      },
    });

  const up = async () => {
    if (server) return;
    server = create();
    const s = server;
    await new Promise<void>((resolve, reject) => {
      s.server.once('error', reject);
      s.listen(port, '127.0.0.1', () => resolve());
    });
    port = (s.server.address() as AddressInfo).port;
  };
  const down = async () => {
    const s = server;
    server = undefined;
    if (!s) return;
    await new Promise<void>((resolve) => s.close(() => resolve()));
  };

  await up();
  return {
    get url() {
      return `smtp://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    received,
    get conversations() {
      return conversations;
    },
    holdNext: () => {
      let arrived!: () => void;
      let release!: () => void;
      const arrivedPromise = new Promise<void>((resolve) => (arrived = resolve));
      hold = { arrived, released: new Promise<void>((resolve) => (release = resolve)) };
      return { arrived: arrivedPromise, release };
    },
    refuseNext: (count, code = 451) => {
      refusals = count;
      refusalCode = code;
    },
    down,
    up,
    close: down,
  };
}
