/**
 * `/v1/mail` and `/v1/outbox` page newest first with a keyset cursor (issue 10: the ids were
 * ordered as text, so "newest first" began at 99 of 105 and paging skipped mail). Paging
 * through 105 rows — across 9 → 10 and 99 → 100 — must give every row once, in numeric order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@fairlead/testing';
import { migrateNotification } from '../schema';
import { listCaughtMail } from './caught-mail';
import { listOutbox } from './outbox';

let db: TestDatabase;
const COUNT = 105;

beforeAll(async () => {
  db = await createTestDatabase('notification_paging');
  await migrateNotification(db.pool);
  await db.pool.query(
    `insert into notification.caught_mail (envelope_to, subject, headers, size_bytes, raw)
     select array['p' || n || '@example.com'], 'mail ' || n, '[]'::jsonb, 10, 'raw' from generate_series(1, $1) n`,
    [COUNT],
  );
  await db.pool.query(
    `insert into notification.outbox (id, kind, source_event_id, source_stream, recipient, subject, text_body, html_body, status, message_id)
     select gen_random_uuid(), 'lead_assigned', 'event-' || n, 'lead-' || n, 'p@example.com', 's', 't', 'h', 'queued', '<m' || n || '@fairlead>'
       from generate_series(1, $1) n`,
    [COUNT],
  );
});
afterAll(async () => db?.drop());

/** Pages as the routes do: next cursor = the last row's id when the page is full. */
async function pageThrough(list: (before: string | undefined) => Promise<string[]>): Promise<{ ids: number[]; firstPage: number[] }> {
  const ids: number[] = [];
  let firstPage: number[] = [];
  for (let before: string | undefined, pages = 0; pages < 100; pages++) {
    const page = await list(before);
    if (pages === 0) firstPage = page.map(Number);
    ids.push(...page.map(Number));
    if (page.length < 4) break;
    before = page.at(-1);
  }
  return { ids, firstPage };
}

const newestFirst = Array.from({ length: COUNT }, (_, i) => COUNT - i);

describe('newest first, page by page', () => {
  it('caught mail: every mail once, in numeric order, across 9 → 10 and 99 → 100', async () => {
    const { ids, firstPage } = await pageThrough(async (before) => (await listCaughtMail(db.pool, { limit: 4, before })).map((m) => m.id));
    expect(firstPage).toEqual([105, 104, 103, 102]);
    expect(ids).toEqual(newestFirst);
  });

  it('the outbox: every email once, in numeric order of seq', async () => {
    const { ids, firstPage } = await pageThrough(async (before) => (await listOutbox(db.pool, { limit: 4, before })).map((r) => r.seq));
    expect(firstPage).toEqual([105, 104, 103, 102]);
    expect(ids).toEqual(newestFirst);
  });
});
