/**
 * When the rest of the lead path has caught up with a phase's leads: an outcome is not the
 * end of a lead's work when notification (an email per assignment) and the operator API
 * (its read models) run too. A rate the system reaches only by leaving emails or read
 * models behind is not one it sustains, so with those services the saturation figure ends
 * when the last of them is done (see the bench's header).
 */
import type pg from 'pg';
import type { LeadRecord } from './load';
import { sleep } from './load';
import type { ServiceName } from './processes';

/** Where the phase starts in the outbox (emails of earlier phases are all sent by then). */
export interface DrainMark {
  outboxSeq: string | undefined;
}

export interface DrainResult {
  /** When the phase's last email was sent (ms), with notification. */
  lastEmailAt?: number;
  /** When the operator API's leads read model had every outcome (ms, polled), with the operator API. */
  readModelsAt?: number;
  /** Per lead: its last email's sent_at − publish (ms), with notification. */
  emailLatencies?: number[];
}

export async function markDrain(pool: pg.Pool, services: readonly ServiceName[]): Promise<DrainMark> {
  if (!services.includes('notification')) return { outboxSeq: undefined };
  const { rows } = await pool.query<{ seq: string }>('select coalesce(max(seq), 0)::text as seq from notification.outbox');
  return { outboxSeq: rows[0]!.seq };
}

/**
 * Waits (after every outcome arrived) until every assignment of `leads` has its email sent
 * and the operator API shows every outcome; rejects after `timeoutMs` without progress.
 */
export async function waitForDrain(pool: pg.Pool, services: readonly ServiceName[], mark: DrainMark, leads: readonly LeadRecord[], timeoutMs = 120_000): Promise<DrainResult> {
  const result: DrainResult = {};
  const expectedEmails = leads.reduce((s, l) => s + (l.assignments ?? 0), 0);
  const ids = leads.map((l) => l.leadId);
  let progress = -1;
  let lastProgressAt = Date.now();
  for (;;) {
    let pending = 0;
    let seen = 0;
    if (mark.outboxSeq !== undefined && result.lastEmailAt === undefined) {
      const { rows } = await pool.query<{ n: number; last: Date | null }>(
        `select count(*)::int as n, max(sent_at) as last from notification.outbox where status = 'sent' and seq > $1::bigint and kind = 'lead_assigned'`,
        [mark.outboxSeq],
      );
      seen += rows[0]!.n;
      if (rows[0]!.n >= expectedEmails) result.lastEmailAt = rows[0]!.last?.getTime() ?? Date.now();
      else pending++;
    }
    if (services.includes('operator-api') && result.readModelsAt === undefined) {
      const { rows } = await pool.query<{ n: number }>('select count(*)::int as n from operator.leads where lead_id = any($1::text[]) and outcome is not null', [ids]);
      seen += rows[0]!.n;
      if (rows[0]!.n >= ids.length) result.readModelsAt = Date.now();
      else pending++;
    }
    if (pending === 0) break;
    if (seen !== progress) {
      progress = seen;
      lastProgressAt = Date.now();
    } else if (Date.now() - lastProgressAt > timeoutMs) {
      throw new Error(`the rest of the lead path made no progress for ${timeoutMs} ms (${seen} emails sent / read-model rows so far)`);
    }
    // Not faster: each poll counts the phase's sent emails, and the benchmark's own queries must stay a small share of PostgreSQL's work.
    await sleep(250);
  }
  if (mark.outboxSeq !== undefined) {
    const { rows } = await pool.query<{ stream: string; last: Date }>(
      `select source_stream as stream, max(sent_at) as last from notification.outbox where seq > $1::bigint and kind = 'lead_assigned' group by source_stream`,
      [mark.outboxSeq],
    );
    const lastByStream = new Map(rows.map((r) => [r.stream, r.last.getTime()]));
    result.emailLatencies = leads
      .filter((l) => (l.assignments ?? 0) > 0)
      .map((l) => (lastByStream.get(`lead-${l.leadId}`) ?? Number.NaN) - l.publishedAt)
      .sort((a, b) => a - b);
  }
  return result;
}

/** The phase's end for the whole lead path: the last outcome, email and read-model row. */
export const drainedEnd = (outcomesEnd: number, drain: DrainResult): number => Math.max(outcomesEnd, drain.lastEmailAt ?? 0, drain.readModelsAt ?? 0);
