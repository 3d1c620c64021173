/**
 * `notification.outbox`: every email, recorded (queued) before it is sent and marked
 * sent or failed after. Sending happens while the row is locked, so two deliveries of
 * one event (a redelivery racing a slow first attempt) never both reach SMTP.
 */
import type pg from 'pg';
import type { EmailKind } from '../domain/emails';

type Db = Pick<pg.Pool, 'query'>;

export const OUTBOX_STATUSES = ['queued', 'sent', 'failed'] as const;
export type OutboxStatus = (typeof OUTBOX_STATUSES)[number];

export interface NewOutboxEmail {
  id: string;
  kind: EmailKind;
  sourceEventId: string;
  sourceStream: string;
  recipient: string;
  subject: string;
  text: string;
  html: string;
  messageId: string;
}

export interface OutboxRow {
  id: string;
  seq: string;
  kind: EmailKind;
  source_event_id: string;
  source_stream: string;
  recipient: string;
  subject: string;
  text_body: string;
  html_body: string;
  status: OutboxStatus;
  attempts: number;
  last_error: string | null;
  message_id: string;
  smtp_response: string | null;
  created_at: Date;
  updated_at: Date;
  last_attempt_at: Date | null;
  sent_at: Date | null;
}

const COLUMNS = `id, seq::text, kind, source_event_id, source_stream, recipient, subject, text_body, html_body, status, attempts,
  last_error, message_id, smtp_response, created_at, updated_at, last_attempt_at, sent_at`;

/** Records the email as queued; a second call for the same id keeps the first (its content included). */
export async function recordEmail(db: Db, email: NewOutboxEmail): Promise<void> {
  await db.query(
    `insert into notification.outbox (id, kind, source_event_id, source_stream, recipient, subject, text_body, html_body, status, message_id)
     values ($1, $2, $3, $4, $5, $6, $7, $8, 'queued', $9)
     on conflict do nothing`,
    [email.id, email.kind, email.sourceEventId, email.sourceStream, email.recipient, email.subject, email.text, email.html, email.messageId],
  );
}

export async function findOutbox(db: Db, id: string): Promise<OutboxRow | undefined> {
  const { rows } = await db.query<OutboxRow>(`select ${COLUMNS} from notification.outbox where id = $1`, [id]);
  return rows[0];
}

/** The email recorded for a source event (the first event of its group for a grouped email), if any. */
export async function findOutboxBySource(db: Db, kind: string, sourceEventId: string): Promise<OutboxRow | undefined> {
  const { rows } = await db.query<OutboxRow>(`select ${COLUMNS} from notification.outbox where kind = $1 and source_event_id = $2`, [kind, sourceEventId]);
  return rows[0];
}

export interface DeliverOptions {
  /** This is the last attempt: a failure marks the row failed instead of queued. */
  final: boolean;
  /** Failures retrying cannot fix (an SMTP 5xx) mark the row failed at once. */
  isPermanent(error: unknown): boolean;
  describe(error: unknown): string;
}

export type DeliverResult = { status: 'sent'; attempts: number } | { status: 'already_sent' };

/**
 * Sends the recorded email unless it was sent already, and records the outcome. A send
 * failure is recorded (attempts, last_error) and rethrown for the caller to retry.
 * A crash between the server's acceptance and the commit sends it again on redelivery:
 * the one duplicate SMTP allows, with the same Message-ID for the receiver to drop.
 */
export async function deliver(pool: pg.Pool, id: string, send: (row: OutboxRow) => Promise<{ response: string }>, options: DeliverOptions): Promise<DeliverResult> {
  const client = await pool.connect();
  let broken: Error | undefined;
  let open = false;
  try {
    await client.query('begin');
    open = true;
    const { rows } = await client.query<OutboxRow>(`select ${COLUMNS} from notification.outbox where id = $1 for update`, [id]);
    const row = rows[0];
    if (!row) throw new Error(`outbox row ${id} not found`);
    if (row.status === 'sent') {
      await client.query('commit');
      open = false;
      return { status: 'already_sent' };
    }
    let response: string;
    try {
      ({ response } = await send(row));
    } catch (error) {
      const status: OutboxStatus = options.final || options.isPermanent(error) ? 'failed' : 'queued';
      await client.query(
        `update notification.outbox set status = $2, attempts = attempts + 1, last_error = $3, last_attempt_at = now(), updated_at = now() where id = $1`,
        [id, status, options.describe(error)],
      );
      await client.query('commit');
      open = false;
      throw error;
    }
    await client.query(
      `update notification.outbox set status = 'sent', attempts = attempts + 1, smtp_response = $2, last_attempt_at = now(), sent_at = now(), updated_at = now()
       where id = $1`,
      [id, response.slice(0, 1000)],
    );
    await client.query('commit');
    open = false;
    return { status: 'sent', attempts: row.attempts + 1 };
  } catch (error) {
    if (open) await client.query('rollback').catch((rollbackError: Error) => (broken = rollbackError));
    throw error;
  } finally {
    client.release(broken);
  }
}

export interface OutboxPageQuery {
  status?: OutboxStatus | undefined;
  limit: number;
  /** Keyset cursor: rows older than this seq. */
  before?: string | undefined;
}

/** Newest first, keyset-paginated by seq (the table's column: the selected `seq::text` would order as text). */
export async function listOutbox(db: Db, query: OutboxPageQuery): Promise<OutboxRow[]> {
  const { rows } = await db.query<OutboxRow>(
    `select ${COLUMNS} from notification.outbox o
      where ($1::text is null or o.status = $1) and ($2::bigint is null or o.seq < $2)
      order by o.seq desc limit $3`,
    [query.status ?? null, query.before ?? null, query.limit],
  );
  return rows;
}

export async function countOutboxByStatus(db: Db): Promise<Record<OutboxStatus, number>> {
  const { rows } = await db.query<{ status: OutboxStatus; n: string }>(`select status, count(*)::text as n from notification.outbox group by status`);
  const counts: Record<OutboxStatus, number> = { queued: 0, sent: 0, failed: 0 };
  for (const r of rows) counts[r.status] = Number(r.n);
  return counts;
}
