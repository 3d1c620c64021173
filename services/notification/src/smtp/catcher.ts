/**
 * A local mail catcher for machines without an SMTP server (`npm start` on a fresh
 * clone): an SMTP server on loopback that accepts every message and stores it in
 * `notification.caught_mail`, where the HTTP API lists it. Not a relay: nothing leaves.
 *
 * It stores the message as received with the few header fields the list shows (subject,
 * Message-ID); the bodies are parsed when somebody opens the message (caught-mail.ts).
 * Parsing every message on arrival with mailparser was most of the catcher's cost, which
 * the whole `npm start` lead path paid four times per lead (bench:distribution).
 */
import type { AddressInfo } from 'node:net';
import libmime from 'libmime';
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
  const inserts = groupInserts(pool);

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
    // Read with listeners, not `for await`: the async iterator's promise per chunk and its end-of-stream machinery cost
    // more than the few chunks of a message.
    const chunks = await new Promise<Buffer[]>((resolve, reject) => {
      const read: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => read.push(chunk));
      stream.once('end', () => resolve(read));
      stream.once('error', reject);
      // A connection gone before the end of the data ('end' comes first otherwise).
      stream.once('close', () => reject(new Error('the message ended before its data did')));
    });
    if (stream.sizeExceeded) throw Object.assign(new Error(`message larger than ${maxBytes} bytes`), { responseCode: 552 });
    const raw = Buffer.concat(chunks);
    const text = raw.toString('utf8');
    const header = headerFields(text);
    const { mailFrom, rcptTo } = session.envelope;
    const id = await inserts.add([
      mailFrom ? mailFrom.address : null,
      rcptTo.map((r) => r.address),
      header.subject,
      header.messageId,
      JSON.stringify(header.lines),
      raw.length,
      text,
    ]);
    // Debug: the sender logs every email it sends; a second line per email here cost more than the catcher's own work.
    logger.debug({ id, to: rcptTo.map((r) => r.address), subject: header.subject }, 'mail caught');
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

export interface HeaderFields {
  /** The header's lines, each unfolded (continuation lines joined to their field). */
  lines: string[];
  /** Subject, with RFC 2047 encoded words decoded. */
  subject: string | null;
  messageId: string | null;
}

/** The header block of a message (up to the first empty line), without parsing the body. */
export function headerFields(raw: Buffer | string): HeaderFields {
  const text = typeof raw === 'string' ? raw : raw.toString('utf8');
  const blank = /\r?\n\r?\n/.exec(text);
  const block = blank ? text.slice(0, blank.index) : text;
  const lines: string[] = [];
  for (const line of block.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && lines.length > 0) lines[lines.length - 1] += ` ${line.trim()}`;
    else if (line.length > 0) lines.push(line);
  }
  const field = (name: string) => {
    const line = lines.find((l) => l.slice(0, name.length + 1).toLowerCase() === `${name}:`);
    return line === undefined ? null : line.slice(name.length + 1).trim();
  };
  const subject = field('subject');
  return { lines, subject: subject === null ? null : libmime.decodeWords(subject), messageId: field('message-id') };
}

type CaughtRow = [from: string | null, to: string[], subject: string | null, messageId: string | null, headers: string, size: number, raw: string];
const COLUMNS_PER_ROW = 7;
/** Most messages stored by one statement (7 parameters each). */
const MAX_GROUP = 64;

/**
 * A group commit for caught messages: one insert at a time; the messages that arrive while it
 * runs go together in the next one. A lead's emails arrive at once (the sender sends a batch
 * over several connections), and with durable commits each insert waits for a WAL flush:
 * one statement and one commit for them instead of one each. Nothing waits when the
 * catcher is idle. A message the database refuses gets its 451 alone: its group is retried one by one.
 */
function groupInserts(pool: pg.Pool): { add(row: CaughtRow): Promise<string> } {
  let waiting: { row: CaughtRow; resolve: (id: string) => void; reject: (error: unknown) => void }[] = [];
  let running = false;

  async function insert(rows: readonly CaughtRow[]): Promise<string[]> {
    const values = rows.map((_, i) => `(${Array.from({ length: COLUMNS_PER_ROW }, (__, c) => `$${i * COLUMNS_PER_ROW + c + 1}`).join(', ')})`);
    // RETURNING gives the rows in the order of the VALUES list (one plain insert, no triggers). Named: one text per
    // group size, each parsed and planned once per connection.
    const result = await pool.query<{ id: string }>({
      name: `notification-caught-mail-${rows.length}`,
      text: `insert into notification.caught_mail (envelope_from, envelope_to, subject, message_id, headers, size_bytes, raw)
       values ${values.join(', ')} returning id::text`,
      values: rows.flat(),
    });
    return result.rows.map((r) => r.id);
  }

  async function drain(): Promise<void> {
    while (waiting.length > 0) {
      const group = waiting.slice(0, MAX_GROUP);
      waiting = waiting.slice(group.length);
      try {
        const ids = await insert(group.map((g) => g.row));
        group.forEach((g, i) => g.resolve(ids[i]!));
      } catch (error) {
        if (group.length === 1) {
          group[0]!.reject(error);
          continue;
        }
        // One message the database refuses must not fail the others that came with it.
        for (const g of group) await insert([g.row]).then(([id]) => g.resolve(id!), g.reject);
      }
    }
    running = false;
  }

  return {
    add: (row) =>
      new Promise<string>((resolve, reject) => {
        waiting.push({ row, resolve, reject });
        if (running) return;
        running = true;
        // The messages whose data ends in this turn of the event loop go in the first insert.
        setImmediate(() => void drain());
      }),
  };
}
