import nodemailer, { type SendMailOptions } from 'nodemailer';
import { describe, expect, it } from 'vitest';
import { headerFields } from './catcher';

/** A message as nodemailer writes it (what the catcher receives from the notification service). */
async function compose(mail: SendMailOptions): Promise<Buffer> {
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
  const info = await transport.sendMail({ from: 'Fairlead <no-reply@fairlead.test>', to: 'p@example.test', ...mail });
  return info.message as Buffer;
}

describe("the catcher's header fields (no body parsing)", () => {
  it('reads the subject (encoded words decoded, folded lines joined) and the Message-ID of what nodemailer sends', async () => {
    const subject = `New Lead Assigned - Dächer & Fenster ${'sehr lange Nische '.repeat(6)}`.trim();
    const raw = await compose({ subject, text: 'hello', html: '<p>hello</p>', messageId: '<abc.123@fairlead.test>' });
    expect(raw.toString('utf8')).toMatch(/Subject: =\?UTF-8\?/); // encoded, and long enough to be folded
    const fields = headerFields(raw);
    expect(fields.subject).toBe(subject);
    expect(fields.messageId).toBe('<abc.123@fairlead.test>');
    expect(fields.lines.some((l) => l.startsWith('Message-ID: <abc.123@fairlead.test>'))).toBe(true);
    expect(fields.lines.every((l) => !/^[ \t]/.test(l))).toBe(true);
  });

  it('takes nothing from the body: a body line that looks like a header is not the subject', async () => {
    const raw = await compose({ subject: undefined, text: 'Subject: forged\r\nMessage-ID: <forged@x>' });
    const fields = headerFields(raw);
    expect(fields.subject).toBeNull();
    expect(fields.messageId).not.toBe('<forged@x>');
    expect(headerFields(Buffer.from('Subject: only a header, no body')).subject).toBe('only a header, no body');
    expect(headerFields(Buffer.from('')).lines).toEqual([]);
  });
});
