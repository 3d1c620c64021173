/**
 * The mail catcher over real SMTP (nodemailer) into real PostgreSQL: messages sent at once
 * are stored together (the group commit), each SMTP answer names its own row, and a message
 * the database refuses fails alone.
 */
import nodemailer from 'nodemailer';
import type pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@fairlead/testing';
import { findCaughtMail } from '../application/caught-mail';
import { migrateNotification } from '../schema';
import { startMailCatcher, type MailCatcher } from './catcher';

describe('mail catcher', () => {
  let db: TestDatabase;
  let catcher: MailCatcher;
  let inserts = 0;

  beforeAll(async () => {
    db = await createTestDatabase('notification_catcher');
    await migrateNotification(db.pool);
    // The real pool, with its inserts counted.
    const counting = new Proxy(db.pool, {
      get(target, key, receiver) {
        if (key !== 'query') return Reflect.get(target, key, receiver);
        return (text: unknown, ...rest: unknown[]) => {
          if (typeof text === 'string' && text.includes('insert into notification.caught_mail')) inserts++;
          return (target.query as (...a: unknown[]) => unknown).call(target, text, ...rest);
        };
      },
    }) as pg.Pool;
    catcher = await startMailCatcher({ pool: counting, logger: pino({ level: 'silent' }) });
  });
  afterAll(async () => {
    await catcher?.stop();
    await db?.drop();
  });

  const idOf = (response: string) => /stored as (\d+)/.exec(response)?.[1];

  it('stores 40 messages sent at once with fewer inserts than messages, each SMTP answer naming its own row', async () => {
    const transport = nodemailer.createTransport({ url: catcher.url, pool: true, maxConnections: 5 } as never);
    try {
      const before = inserts;
      const sent = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          transport.sendMail({ from: 'no-reply@fairlead.test', to: `p${i}@example.test`, subject: `Lead ${i} — Dächer`, text: `body ${i}`, messageId: `<m${i}@fairlead.test>` }),
        ),
      );
      expect(inserts - before).toBeLessThan(40);
      for (const [i, info] of sent.entries()) {
        const id = idOf(info.response);
        expect(id, info.response).toBeDefined();
        const mail = await findCaughtMail(db.pool, id!);
        expect(mail).toMatchObject({ envelope_to: [`p${i}@example.test`], subject: `Lead ${i} — Dächer`, message_id: `<m${i}@fairlead.test>` });
        expect(mail!.text_body?.trim()).toBe(`body ${i}`);
      }
    } finally {
      transport.close();
    }
  });

  it('refuses with a 451 only the message the database cannot store; the ones sent with it are stored', async () => {
    const transport = nodemailer.createTransport({ url: catcher.url, pool: true, maxConnections: 5 } as never);
    try {
      // A NUL byte in the message as sent (raw): PostgreSQL text cannot hold it.
      const results = await Promise.allSettled([
        transport.sendMail({ from: 'no-reply@fairlead.test', to: 'ok1@example.test', subject: 'fine 1', text: 'x' }),
        transport.sendMail({ envelope: { from: 'no-reply@fairlead.test', to: ['bad@example.test'] }, raw: 'Subject: bad\r\nX-Poison: a\u0000b\r\n\r\nx\r\n' }),
        transport.sendMail({ from: 'no-reply@fairlead.test', to: 'ok2@example.test', subject: 'fine 2', text: 'x' }),
      ]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect(String((results[1] as PromiseRejectedResult).reason)).toMatch(/451/);
      const { rows } = await db.pool.query<{ subject: string }>(`select subject from notification.caught_mail where subject in ('fine 1', 'fine 2', 'bad') order by subject`);
      expect(rows.map((r) => r.subject)).toEqual(['fine 1', 'fine 2']);
    } finally {
      transport.close();
    }
  });
});
