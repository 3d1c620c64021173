import MailComposer from 'nodemailer/lib/mail-composer';
import { describe, expect, it } from 'vitest';
import { buildAlternativeMessage, fromHeader, type MimeMail } from './mime';

const date = new Date('2026-12-03T09:12:29.000Z');

/** What nodemailer's MailComposer writes for the email (sender.ts's options before mime.ts). */
async function composed(mail: MimeMail): Promise<string> {
  const { from, to, subject, text, html, messageId, baseBoundary } = mail;
  const message = new MailComposer({ from, to, subject, text, html, messageId, baseBoundary, date, disableFileAccess: true, disableUrlAccess: true } as never);
  return (await message.compile().build()).toString();
}

function built(mail: MimeMail): string | undefined {
  const from = fromHeader(mail.from);
  return from && buildAlternativeMessage(mail, from.line);
}

const base: MimeMail = {
  from: 'Fairlead <no-reply@fairlead.local>',
  to: 'pro-1a2b3c4d@example.com',
  subject: 'New Lead Assigned - Roofing',
  text: 'Hi Acme Roofing,\n\nYou have been assigned a new lead!\n',
  html: '<!doctype html>\n<html>\n  <body style="font-family: sans-serif;">\n<p>Hi Acme Roofing,</p>\n</body>\n</html>\n',
  messageId: '<3b5d7f91-c2e4-5a6b-9d0f-1e2a3b4c5d6e@fairlead.notification>',
  baseBoundary: '3b5d7f91c2e45a6b9d0f1e2a3b4c5d6efairleadnotification',
  date,
};

/** A small deterministic generator (the cases must be the same on every run). */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const PIECES = ['Hi', ' ', '  ', 'Acme', 'Roofing', '\n', '\r\n', '\n\n', '.', '..', '=', '=3D', '\t', ' \n', 'Dächer', 'Zürich', '—', '€', '日本語', '😀', '<b>', '&amp;', '"', "'", 'x'.repeat(80), 'word '.repeat(20), '\u0001', '?=', '=?', '_'];

function text(rnd: () => number, pieces: number): string {
  let out = '';
  for (let i = 0; i < pieces; i++) out += PIECES[Math.floor(rnd() * PIECES.length)]!;
  return out;
}

describe('buildAlternativeMessage', () => {
  it("writes the service's email byte for byte as nodemailer's MailComposer does", async () => {
    expect(built(base)).toBe(await composed(base));
  });

  it('matches MailComposer for long, folded, encoded, non-ASCII and odd subjects and bodies (or declines)', async () => {
    const rnd = random(12);
    let matched = 0;
    for (let i = 0; i < 400; i++) {
      const mail: MimeMail = {
        ...base,
        subject: text(rnd, Math.floor(rnd() * 12)),
        text: text(rnd, 1 + Math.floor(rnd() * 40)),
        html: text(rnd, 1 + Math.floor(rnd() * (i % 10 === 0 ? 3000 : 60))),
      };
      const ours = built(mail);
      if (ours === undefined) continue;
      expect(ours, JSON.stringify(mail)).toBe(await composed(mail));
      matched++;
    }
    // Most of them take the fast path (the declined ones are base64 parts).
    expect(matched).toBeGreaterThan(300);
  });

  it('matches MailComposer for senders and recipients it writes, and declines the others', async () => {
    for (const from of ['no-reply@fairlead.local', 'Fairlead <no-reply@fairlead.local>', 'Fairlead Leads Team <a.b+c@mail.example.org>']) {
      const mail = { ...base, from };
      expect(built(mail), from).toBe(await composed(mail));
    }
    for (const from of ['"Smith, John" <j@example.com>', 'Dächer GmbH <d@example.com>', 'a@b.com, c@d.com', 'x@exämple.com']) expect(fromHeader(from), from).toBeUndefined();
    for (const to of ['Pro <p@example.com>', 'p@exämple.com', 'p@example.com, q@example.com', ' p@example.com']) {
      expect(buildAlternativeMessage({ ...base, to }, fromHeader(base.from)!.line), to).toBeUndefined();
    }
    expect(buildAlternativeMessage({ ...base, messageId: '<a\tb@c>' }, fromHeader(base.from)!.line)).toBeUndefined();
    expect(buildAlternativeMessage({ ...base, text: '' }, fromHeader(base.from)!.line)).toBeUndefined();
  });
});
