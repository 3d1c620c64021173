/** Reads of `notification.caught_mail` (the local catcher's mailbox). */
import { simpleParser } from 'mailparser';
import type pg from 'pg';

type Db = Pick<pg.Pool, 'query'>;

export interface CaughtMailSummary {
  id: string;
  received_at: Date;
  envelope_from: string | null;
  envelope_to: string[];
  subject: string | null;
  message_id: string | null;
  size_bytes: number;
}

export interface CaughtMail extends CaughtMailSummary {
  text_body: string | null;
  html_body: string | null;
  headers: string[];
}

const SUMMARY = `id::text, received_at, envelope_from, envelope_to, subject, message_id, size_bytes`;

/**
 * Newest first, keyset-paginated by id. The order names the table's column: a bare `id`
 * would be the selected `id::text`, ordering 999,998 before 1,000,000 and paging past mail.
 */
export async function listCaughtMail(db: Db, query: { limit: number; before?: string | undefined; to?: string | undefined }): Promise<CaughtMailSummary[]> {
  const { rows } = await db.query<CaughtMailSummary>(
    `select ${SUMMARY} from notification.caught_mail m
      where ($1::bigint is null or m.id < $1) and ($2::text is null or $2 = any (m.envelope_to))
      order by m.id desc limit $3`,
    [query.before ?? null, query.to ?? null, query.limit],
  );
  return rows;
}

/**
 * One message with its bodies. The catcher stores messages as received (catcher.ts): the
 * bodies are parsed here, when somebody opens one (rows caught before that change carry them).
 */
export async function findCaughtMail(db: Db, id: string): Promise<CaughtMail | undefined> {
  const { rows } = await db.query<CaughtMail & { raw: string }>(`select ${SUMMARY}, text_body, html_body, headers, raw from notification.caught_mail where id = $1`, [id]);
  const row = rows[0];
  if (!row) return undefined;
  const { raw, ...mail } = row;
  if (mail.text_body !== null || mail.html_body !== null) return mail;
  const parsed = await simpleParser(raw);
  return { ...mail, text_body: parsed.text ?? null, html_body: typeof parsed.html === 'string' ? parsed.html : null };
}

export async function findCaughtMailRaw(db: Db, id: string): Promise<string | undefined> {
  const { rows } = await db.query<{ raw: string }>(`select raw from notification.caught_mail where id = $1`, [id]);
  return rows[0]?.raw;
}
