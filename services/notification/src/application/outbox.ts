/**
 * `notification.outbox`: every email, recorded (queued) before it is sent and marked
 * sent or failed after. Sending happens while the email's lock is held, so two deliveries
 * of one event (a redelivery racing a slow first attempt) never both reach SMTP.
 *
 * The lock is an advisory lock per outbox id, not `SELECT … FOR UPDATE`: a row lock gives the
 * transaction an xid for the whole SMTP conversation, and every reader of the global event log
 * waits below the oldest open xid (read_page's watermark) — the relay included, so one slow
 * mail server delayed every lead (bench:distribution saw three such transactions open on
 * average). It is a session-level lock, taken and released by autocommit calls
 * (notification.claim_outbox and finish_outbox, schema.ts), so no transaction at all is open
 * while the emails are sent: a batch costs two round trips (claim: record + lock + read;
 * finish: outcomes + unlock) where a transaction-scoped lock cost five or six (insert, begin, lock +
 * read, one update per outcome kind, commit). finish_outbox keeps the locks until its outcome is committed.
 *
 * Session locks survive a rollback and go back to the pool with the connection: any error
 * while one may be held destroys the connection (client.release(error)), and closing the
 * session releases its locks.
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

export async function findOutbox(db: Db, id: string): Promise<OutboxRow | undefined> {
  const { rows } = await db.query<OutboxRow>(`select ${COLUMNS} from notification.outbox where id = $1`, [id]);
  return rows[0];
}

/** The email recorded for a source event (the first event of its group for a grouped email), if any. */
export async function findOutboxBySource(db: Db, kind: string, sourceEventId: string): Promise<OutboxRow | undefined> {
  const { rows } = await db.query<OutboxRow>(`select ${COLUMNS} from notification.outbox where kind = $1 and source_event_id = $2`, [kind, sourceEventId]);
  return rows[0];
}

/** The advisory-lock class of outbox emails (the two-key form: its own space beside any bigint key). */
const OUTBOX_LOCK_CLASS = 0x6e_6f_74_66; // "notf"

/**
 * Takes the session-level locks of these ids (in one order for everyone: two replicas' batches
 * may overlap on a redelivery; no xid while it waits), records the new emails as queued and
 * reads the rows: one autocommit call of notification.claim_outbox (schema.ts), whose insert
 * and read are statements of their own after the locks, so they see what a delivery that held
 * them committed. From its start the client may hold locks: only finish() or destroying it frees them.
 */
async function claim(client: pg.PoolClient, ids: readonly string[], fresh: readonly NewOutboxEmail[]): Promise<OutboxRow[]> {
  const { rows } = await client.query<OutboxRow>({
    name: 'notification-outbox-claim',
    text: `select ${COLUMNS} from notification.claim_outbox($1::int, $2::text[], $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[])`,
    values: [
      OUTBOX_LOCK_CLASS,
      [...ids],
      fresh.map((r) => r.id),
      fresh.map((r) => r.kind),
      fresh.map((r) => r.sourceEventId),
      fresh.map((r) => r.sourceStream),
      fresh.map((r) => r.recipient),
      fresh.map((r) => r.subject),
      fresh.map((r) => r.text),
      fresh.map((r) => r.html),
      fresh.map((r) => r.messageId),
    ],
  });
  return rows;
}

/**
 * Writes the outcomes and releases the locks claim() took, in one autocommit call of
 * notification.finish_outbox: the locks end with its commit, so the next holder reads the outcome.
 */
async function finish(
  client: pg.PoolClient,
  ids: readonly string[],
  sent: readonly { id: string; response: string }[],
  failed: readonly { id: string; status: OutboxStatus; error: string }[],
): Promise<void> {
  await client.query({
    name: 'notification-outbox-finish',
    text: `select from notification.finish_outbox($1::int, $2::text[], $3::uuid[], $4::text[], $5::uuid[], $6::text[], $7::text[])`,
    values: [OUTBOX_LOCK_CLASS, [...ids], sent.map((s) => s.id), sent.map((s) => s.response), failed.map((f) => f.id), failed.map((f) => f.status), failed.map((f) => f.error)],
  });
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
 *
 * `record`: the email is new; it is recorded first as queued (a row already there is kept,
 * its content included). A concurrent delivery of the same id waits on the email's lock until this one
 * commits, then finds it sent.
 */
export async function deliver(
  pool: pg.Pool,
  id: string,
  send: (row: OutboxRow) => Promise<{ response: string }>,
  options: DeliverOptions,
  record?: NewOutboxEmail,
): Promise<DeliverResult> {
  if (record && record.id !== id) throw new Error(`outbox: recording ${record.id} while delivering ${id}`);
  // A batch of one: the same statements, lock and outcome; a failure is thrown here.
  const result = (await deliverMany(pool, [{ id, record, final: options.final }], send, options)).get(id)!;
  if (result.status === 'failed') throw result.error;
  return result;
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

/** The rows of these ids that exist (any status). */
export async function findOutboxMany(db: Db, ids: readonly string[]): Promise<Map<string, OutboxRow>> {
  if (ids.length === 0) return new Map();
  const { rows } = await db.query<OutboxRow>(`select ${COLUMNS} from notification.outbox where id = any($1::uuid[])`, [[...ids]]);
  return new Map(rows.map((r) => [r.id, r]));
}

export interface BatchDelivery {
  id: string;
  /** The email is new: recorded by the call that takes its lock (a row already there is kept). */
  record?: NewOutboxEmail | undefined;
  /** This is the email's last attempt: a failure marks it failed. */
  final: boolean;
}

export type BatchDeliverResult = DeliverResult | { status: 'failed'; error: unknown };

/**
 * deliver() for several emails, in two round trips (named statements: parsed and planned once
 * per connection): claim() records the new ones, takes every email's lock (in one order, as two
 * replicas' batches may overlap on a redelivery) and reads the rows; the unsent ones are sent at
 * once, with no transaction open; finish() writes their outcomes and releases the locks as it
 * commits. The guarantee is deliver()'s: an email is sent while its lock is held, so two
 * deliveries of one email never both reach SMTP. A database failure fails the whole batch (each
 * message is retried; an email the server accepted before it is sent again with the same
 * Message-ID, the duplicate deliver() also allows) and destroys the connection, locks and all.
 */
export async function deliverMany(
  pool: pg.Pool,
  deliveries: readonly BatchDelivery[],
  send: (row: OutboxRow) => Promise<{ response: string }>,
  options: Omit<DeliverOptions, 'final'>,
): Promise<Map<string, BatchDeliverResult>> {
  const results = new Map<string, BatchDeliverResult>();
  if (deliveries.length === 0) return results;
  const byId = new Map(deliveries.map((d) => [d.id, d]));
  if (byId.size !== deliveries.length) throw new Error('deliverMany: an email twice in one batch');
  const ids = [...byId.keys()].sort();
  const fresh = ids.map((id) => byId.get(id)!.record).filter((r): r is NewOutboxEmail => r !== undefined);
  const client = await pool.connect();
  // Any error from here on may leave session locks on this connection: it is destroyed, never pooled.
  let broken: Error | undefined;
  try {
    const rows = await claim(client, ids, fresh);
    const found = new Map(rows.map((r) => [r.id, r]));
    const toSend: OutboxRow[] = [];
    for (const id of ids) {
      const row = found.get(id);
      if (!row) results.set(id, { status: 'failed', error: new Error(`outbox row ${id} not found`) });
      else if (row.status === 'sent') results.set(id, { status: 'already_sent' });
      else toSend.push(row);
    }
    const outcomes = await Promise.allSettled(toSend.map(async (row) => send(row)));
    const sent: { id: string; response: string; attempts: number }[] = [];
    const failed: { id: string; status: OutboxStatus; error: string }[] = [];
    outcomes.forEach((outcome, n) => {
      const row = toSend[n]!;
      if (outcome.status === 'fulfilled') {
        sent.push({ id: row.id, response: outcome.value.response.slice(0, 1000), attempts: row.attempts + 1 });
        results.set(row.id, { status: 'sent', attempts: row.attempts + 1 });
      } else {
        const final = byId.get(row.id)!.final || options.isPermanent(outcome.reason);
        failed.push({ id: row.id, status: final ? 'failed' : 'queued', error: options.describe(outcome.reason) });
        results.set(row.id, { status: 'failed', error: outcome.reason });
      }
    });
    await finish(client, ids, sent, failed);
    return results;
  } catch (error) {
    broken = error instanceof Error ? error : new Error(String(error));
    throw error;
  } finally {
    client.release(broken);
  }
}
