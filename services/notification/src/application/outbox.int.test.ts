/**
 * The outbox's locks against real PostgreSQL (separate pools: real parallel connections) and a
 * real SMTP peer: each email reaches SMTP once however deliveries race, the locks are released
 * after success and failure and only once the outcome is committed, and a connection that may
 * hold a session lock is never handed back to the pool.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, waitFor, type TestDatabase } from '@fairlead/testing';
import { migrateNotification } from '../schema';
import { createSmtpSender, describeSmtpFailure, isPermanentSmtpFailure, type MailSender } from '../smtp/sender';
import { startSmtpPeer, type SmtpPeer } from '../testing/smtp-peer';
import { deliverMany, findOutbox, type NewOutboxEmail, type OutboxRow } from './outbox';

/** outbox.ts's lock class ("notf"): classid of its advisory locks in pg_locks. */
const LOCK_CLASS = 0x6e_6f_74_66;
const options = { isPermanent: isPermanentSmtpFailure, describe: describeSmtpFailure };

describe('outbox locks (session-level, claim and finish)', () => {
  let db: TestDatabase;
  let pools: pg.Pool[];
  let peer: SmtpPeer;
  let sender: MailSender;

  beforeAll(async () => {
    db = await createTestDatabase('notification_outbox');
    await migrateNotification(db.pool);
    pools = [0, 1].map(() => new pg.Pool({ connectionString: db.url, max: 4 }));
    peer = await startSmtpPeer();
    sender = createSmtpSender({ url: peer.url, timeoutMs: 5_000 });
  });

  afterAll(async () => {
    sender?.close();
    await peer?.close();
    await Promise.all((pools ?? []).map((p) => p.end()));
    await db?.drop();
  });

  function email(): NewOutboxEmail {
    const id = randomUUID();
    return {
      id,
      kind: 'lead_assigned',
      sourceEventId: randomUUID(),
      sourceStream: 'lead-x',
      recipient: `p-${id.slice(0, 8)}@example.test`,
      subject: 'A lead',
      text: 'text',
      html: '<p>html</p>',
      messageId: `<${id}@fairlead.notification>`,
    };
  }

  const send = (row: OutboxRow) => sender.send({ from: 'f@fairlead.test', to: row.recipient, subject: row.subject, text: row.text_body, html: row.html_body, messageId: row.message_id });
  const delivered = (e: NewOutboxEmail) => peer.received.filter((m) => m.messageId === e.messageId).length;

  async function outboxLocks(): Promise<number> {
    const { rows } = await db.pool.query<{ n: number }>(`select count(*)::int as n from pg_locks where locktype = 'advisory' and classid = $1::oid and objsubid = 2`, [LOCK_CLASS]);
    return rows[0]!.n;
  }

  async function backendPid(pool: pg.Pool): Promise<number> {
    const { rows } = await pool.query<{ pid: number }>(`select pg_backend_pid() as pid`);
    return rows[0]!.pid;
  }

  it('two deliveries of overlapping batches racing on their own connections send each email exactly once, and never deadlock', async () => {
    for (let round = 0; round < 8; round++) {
      const emails = Array.from({ length: 7 }, email);
      const a = emails.slice(0, 5);
      const b = emails.slice(2).reverse();
      const slowSend = async (row: OutboxRow) => {
        await new Promise((r) => setTimeout(r, 5));
        return send(row);
      };
      const [ra, rb] = await Promise.all([
        deliverMany(pools[0]!, a.map((e) => ({ id: e.id, record: e, final: false })), slowSend, options),
        deliverMany(pools[1]!, b.map((e) => ({ id: e.id, record: e, final: false })), slowSend, options),
      ]);
      for (const e of emails) {
        expect(delivered(e)).toBe(1);
        const statuses = [ra.get(e.id)?.status, rb.get(e.id)?.status].filter((s) => s !== undefined).sort();
        expect(statuses).toEqual(e === emails[0] || e === emails[1] || e === emails[5] || e === emails[6] ? ['sent'] : ['already_sent', 'sent']);
        expect(await findOutbox(db.pool, e.id)).toMatchObject({ status: 'sent', attempts: 1 });
      }
    }
    expect(await outboxLocks()).toBe(0);
  });

  it('a batch costs two statements on its connection: claim, then finish', async () => {
    const counted = new pg.Pool({ connectionString: db.url, max: 1 });
    const seen: string[] = [];
    counted.on('acquire', (client) => {
      const own = client as pg.PoolClient & { counted?: boolean };
      if (own.counted) return;
      own.counted = true;
      const query = client.query.bind(client) as (...a: unknown[]) => unknown;
      (client as { query: unknown }).query = (...args: unknown[]) => {
        const q = args[0] as string | { name?: string };
        seen.push(typeof q === 'string' ? q : (q.name ?? '?'));
        return query(...args);
      };
    });
    try {
      const emails = [email(), email(), email()];
      const results = await deliverMany(counted, emails.map((e) => ({ id: e.id, record: e, final: false })), send, options);
      expect([...results.values()].map((r) => r.status)).toEqual(['sent', 'sent', 'sent']);
      expect(seen).toEqual(['notification-outbox-claim', 'notification-outbox-finish']);
    } finally {
      await counted.end();
    }
  });

  it('releases the locks after a success and after a refusal: the next delivery proceeds, and finds what the last one wrote', async () => {
    const ok = email();
    expect((await deliverMany(pools[0]!, [{ id: ok.id, record: ok, final: false }], send, options)).get(ok.id)).toMatchObject({ status: 'sent' });
    expect(await outboxLocks()).toBe(0);

    // Two: a 421 on a kept-open connection is tried once more on a connection of its own (smtp/sender.ts).
    const refused = email();
    peer.refuseNext(2, 421);
    const first = await deliverMany(pools[0]!, [{ id: refused.id, record: refused, final: false }], send, options);
    peer.refuseNext(0);
    expect(first.get(refused.id)).toMatchObject({ status: 'failed' });
    expect(await outboxLocks()).toBe(0);
    expect(await findOutbox(db.pool, refused.id)).toMatchObject({ status: 'queued', attempts: 1 });

    // Another connection takes the lock at once and sends the email; the sent one is not sent again.
    const again = await Promise.race([
      deliverMany(pools[1]!, [{ id: refused.id, final: false }, { id: ok.id, final: false }], send, options),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the second delivery waited on a lock')), 5_000)),
    ]);
    expect(again.get(refused.id)).toMatchObject({ status: 'sent', attempts: 2 });
    expect(again.get(ok.id)).toEqual({ status: 'already_sent' });
    expect(delivered(refused)).toBe(1);
    expect(delivered(ok)).toBe(1);
    expect(await findOutbox(db.pool, refused.id)).toMatchObject({ status: 'sent', attempts: 2 });
    expect(await outboxLocks()).toBe(0);
  });

  it('finish_outbox keeps the lock until its outcome commits (a session unlock alone would free it before)', async () => {
    const e = email();
    const holder = await pools[0]!.connect();
    const other = await pools[1]!.connect();
    try {
      await holder.query(`select id from notification.claim_outbox($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, [
        LOCK_CLASS,
        [e.id],
        [e.id],
        [e.kind],
        [e.sourceEventId],
        [e.sourceStream],
        [e.recipient],
        [e.subject],
        [e.text],
        [e.html],
        [e.messageId],
      ]);
      const tryLock = async () =>
        (await other.query<{ ok: boolean }>(`select pg_try_advisory_lock($1, hashtext($2)) as ok`, [LOCK_CLASS, e.id])).rows[0]!.ok;
      expect(await tryLock()).toBe(false);
      await holder.query('begin');
      await holder.query(`select from notification.finish_outbox($1, $2, $3, $4, $5, $6, $7)`, [LOCK_CLASS, [e.id], [e.id], ['250 ok'], [], [], []]);
      // The outcome is written but not committed: the lock is still held.
      expect(await tryLock()).toBe(false);
      await holder.query('commit');
      expect(await tryLock()).toBe(true);
      const { rows } = await other.query<{ status: string }>(`select status from notification.outbox where id = $1`, [e.id]);
      expect(rows[0]!.status).toBe('sent');
      await other.query(`select pg_advisory_unlock($1, hashtext($2))`, [LOCK_CLASS, e.id]);
      // The holder's session keeps nothing.
      const { rows: held } = await holder.query<{ n: number }>(`select count(*)::int as n from pg_locks where locktype = 'advisory' and pid = pg_backend_pid()`);
      expect(held[0]!.n).toBe(0);
    } finally {
      holder.release();
      other.release();
    }
  });

  it.each([
    ['the outcome cannot be described (an error between claim and finish)', 'describe'],
    ['the claim fails after taking its locks (an id that is not a uuid)', 'claim'],
  ])('a pooled connection never keeps a session lock after an error: %s', async (_, where) => {
    const pool = new pg.Pool({ connectionString: db.url, max: 1 });
    try {
      const e = email();
      const pid = await backendPid(pool);
      // A success hands the connection back with no lock (the control: the same connection again).
      expect((await deliverMany(pool, [{ id: e.id, record: e, final: false }], send, options)).get(e.id)).toMatchObject({ status: 'sent' });
      expect(await backendPid(pool)).toBe(pid);
      expect(await outboxLocks()).toBe(0);

      const failing = email();
      const attempt =
        where === 'describe'
          ? (() => {
              peer.refuseNext(1, 550);
              return deliverMany(pool, [{ id: failing.id, record: failing, final: false }], send, {
                ...options,
                describe: () => {
                  throw new Error('describe failed');
                },
              });
            })()
          : deliverMany(pool, [{ id: 'not-a-uuid', final: false }], send, options);
      await expect(attempt).rejects.toThrow(where === 'describe' ? /describe failed/ : /uuid/);
      peer.refuseNext(0);
      // The connection was destroyed, its session and locks with it; the pool opens a new one.
      expect(await backendPid(pool)).not.toBe(pid);
      await waitFor(async () => (await outboxLocks()) === 0, { what: 'the destroyed session to release its locks' });
      if (where === 'describe') {
        // The email's lock is free: a new delivery on the same pool sends it.
        expect((await deliverMany(pool, [{ id: failing.id, final: false }], send, options)).get(failing.id)).toMatchObject({ status: 'sent' });
        expect(delivered(failing)).toBe(1);
      }
      expect(await outboxLocks()).toBe(0);
    } finally {
      await pool.end();
    }
  });
});
