/**
 * The message of one email (multipart/alternative: text and HTML) as one string, built
 * with nodemailer's own encoders (mime-funcs, qp) into the bytes its MailComposer writes
 * for the same email (mime.unit.test.ts compares the two). MailComposer streams a message
 * through a tree of nodes, a content stream and an encoder per part, a pipeline and an
 * AbortController per stream, and the socket got it in nine writes; built here it is one
 * string, sent as nodemailer's `raw` message (sender.ts).
 *
 * Only the shape this service sends, with plain addresses and a Message-ID of its own: for
 * anything else (`undefined`) the sender lets MailComposer build the message, as before.
 */
import addressparser from 'nodemailer/lib/addressparser';
import * as mimeFuncs from 'nodemailer/lib/mime-funcs';
import * as qp from 'nodemailer/lib/qp';
import type { OutgoingMail } from './sender';

/** An outgoing email (`from`: the From header's value, `Name <address>` or an address) with what MailComposer would add. */
export interface MimeMail extends OutgoingMail {
  /** The multipart boundary's unique part (MailComposer's `baseBoundary`). */
  baseBoundary: string;
  date: Date;
}

/** An address written into a header as is: ASCII, no display name, nothing to quote or encode. */
const PLAIN_ADDRESS = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$/;
/** A display name MailComposer writes as is (no quoting, no encoded word). */
const PLAIN_NAME = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~ -]+$/;
const PLAIN_MESSAGE_ID = /^<[\x21-\x3d\x3f-\x7e]+>$/;
// MimeNode's test for a header value it encodes whole (control characters other than tab, CR and LF).
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/;

/** The From header line and the envelope's sender, or undefined when MailComposer must write them. */
export function fromHeader(from: string): { line: string; address: string } | undefined {
  const parsed = addressparser(from) as { name?: string; address?: string; group?: unknown }[];
  const only = parsed.length === 1 ? parsed[0]! : undefined;
  if (!only || only.group !== undefined || !only.address || !PLAIN_ADDRESS.test(only.address)) return undefined;
  const name = only.name ?? '';
  if (name !== '' && (!PLAIN_NAME.test(name) || name !== name.trim() || / {2}/.test(name))) return undefined;
  const value = name === '' ? only.address : `${name} <${only.address}>`;
  return { line: mimeFuncs.foldLines(`From: ${value}`, 76), address: only.address };
}

/** Which Content-Transfer-Encoding MailComposer gives a text part: 7bit, quoted-printable, or base64 (undefined here). */
function encodeBody(content: string): { encoding: string; body: string } | undefined {
  if (mimeFuncs.isPlainText(content) && !mimeFuncs.hasLongerLines(content, 76)) return { encoding: '7bit', body: content };
  if (textEncoding(content) !== 'Q') return undefined;
  const bytes = Buffer.from(content, 'utf8');
  // Larger contents go through qp.Encoder in slices, each wrapped on its own.
  if (bytes.length > QP_SLICE) return undefined;
  return { encoding: 'quoted-printable', body: quotedPrintable(bytes) };
}

/** qp.Encoder's slice size: a content up to this size is encoded as one slice. */
const QP_SLICE = 64 * 1024;

/**
 * What qp.Encoder (a Transform) writes for one chunk: the whitespace the content ends with is
 * held back and encoded at the end (as the end of a line), after the rest is wrapped, and
 * the last line of that wrap is wrapped again with it.
 */
function quotedPrintable(bytes: Buffer): string {
  let end = bytes.length;
  while (end > 0 && (bytes[end - 1] === 0x20 || bytes[end - 1] === 0x09)) end--;
  const wrapped = qp.wrap(qp.encode(bytes.subarray(0, end)), 76);
  if (end === bytes.length) return wrapped;
  const lastLine = wrapped.lastIndexOf('\n') + 1;
  return wrapped.slice(0, lastLine) + qp.wrap(wrapped.slice(lastLine) + qp.encode(bytes.subarray(end)), 76);
}

/** MimeNode's choice of Q or B for a value: Q when it has more latin letters than 8-bit and control characters. */
function textEncoding(value: string): 'Q' | 'B' {
  let nonLatin = 0;
  let latin = 0;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code <= 0x08 || code === 0x0b || code === 0x0c || (code >= 0x0e && code <= 0x1f) || code >= 0x80) nonLatin++;
    else if ((code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a)) latin++;
  }
  return nonLatin < latin ? 'Q' : 'B';
}

/**
 * The message, or undefined when it is not this shape (an address with a display name or to
 * encode, a Message-ID to clean, an empty or base64 part): MailComposer builds those.
 * `fromLine`: fromHeader()'s line, built once per sender.
 */
export function buildAlternativeMessage(mail: MimeMail, fromLine: string): string | undefined {
  if (!PLAIN_ADDRESS.test(mail.to) || !PLAIN_MESSAGE_ID.test(mail.messageId) || mail.text === '' || mail.html === '') return undefined;
  if (!/^[0-9A-Za-z]+$/.test(mail.baseBoundary)) return undefined;
  const text = encodeBody(mail.text);
  const html = encodeBody(mail.html);
  if (!text || !html) return undefined;
  const subjectValue = mail.subject.replace(/\r?\n|\r/g, ' ');
  const subject = CONTROL.test(subjectValue)
    ? mimeFuncs.encodeWord(subjectValue, textEncoding(subjectValue), 52)
    : mimeFuncs.encodeWords(subjectValue, textEncoding(subjectValue), 52, true);
  const boundary = `--_NmP-${mail.baseBoundary}-Part_1`;
  // A header whose value is empty is left out, as MailComposer does.
  const subjectLine = subject.trim() === '' ? '' : `${mimeFuncs.foldLines(`Subject: ${subject}`, 76)}\r\n`;
  return (
    `${fromLine}\r\nTo: ${mail.to}\r\n${subjectLine}Message-ID: ${mail.messageId}\r\n` +
    `Date: ${mail.date.toUTCString().replace(/GMT/, '+0000')}\r\nMIME-Version: 1.0\r\n` +
    `${mimeFuncs.foldLines(`Content-Type: multipart/alternative; boundary="${boundary}"`, 76)}\r\n\r\n` +
    `--${boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: ${text.encoding}\r\n\r\n${text.body}` +
    `\r\n--${boundary}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: ${html.encoding}\r\n\r\n${html.body}` +
    `\r\n--${boundary}--\r\n`
  );
}
