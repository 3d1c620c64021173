/**
 * The notification HTTP API: the local catcher's mailbox (`/v1/mail`) and the outbox
 * (`/v1/outbox`), newest first with keyset cursors (`next_cursor` → `?before=`). Both show
 * recipients and whole emails (consumer names and places), so every route needs an
 * operator JWT (`read`: any role); the app must have installAuth on `/v1/`.
 */
import type pg from 'pg';
import { z } from 'zod';
import { NotFoundError, type HttpApp } from '@fairlead/platform';
import { findCaughtMail, findCaughtMailRaw, listCaughtMail, type CaughtMailSummary } from '../application/caught-mail';
import { findOutbox, listOutbox, OUTBOX_STATUSES, type OutboxRow } from '../application/outbox';

const Cursor = z.string().regex(/^\d{1,18}$/, 'a cursor from next_cursor');
const Limit = z.coerce.number().int().min(1).max(200).default(50);
const NumericId = z.object({ id: z.string().regex(/^\d{1,18}$/, 'a mail id') });
const Uuid = z.object({ id: z.uuid() });

const MailSummary = z.object({
  id: z.string(),
  received_at: z.string(),
  from: z.string().nullable(),
  to: z.array(z.string()),
  subject: z.string().nullable(),
  message_id: z.string().nullable(),
  size_bytes: z.number().int(),
});
const MailDetail = MailSummary.extend({ text: z.string().nullable(), html: z.string().nullable(), headers: z.array(z.string()) });

const OutboxSummary = z.object({
  id: z.string(),
  kind: z.string(),
  source_event_id: z.string(),
  source_stream: z.string(),
  recipient: z.string(),
  subject: z.string(),
  status: z.enum(OUTBOX_STATUSES),
  attempts: z.number().int(),
  last_error: z.string().nullable(),
  message_id: z.string(),
  smtp_response: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
  last_attempt_at: z.string().nullable(),
  sent_at: z.string().nullable(),
});
const OutboxDetail = OutboxSummary.extend({ text: z.string(), html: z.string() });

const page = <T extends z.ZodType>(item: T) => z.object({ items: z.array(item), next_cursor: z.string().nullable() });

const iso = (d: Date | null): string | null => (d ? d.toISOString() : null);

function mailSummary(m: CaughtMailSummary): z.infer<typeof MailSummary> {
  return { id: m.id, received_at: m.received_at.toISOString(), from: m.envelope_from, to: m.envelope_to, subject: m.subject, message_id: m.message_id, size_bytes: m.size_bytes };
}

function outboxSummary(r: OutboxRow): z.infer<typeof OutboxSummary> {
  return {
    id: r.id,
    kind: r.kind,
    source_event_id: r.source_event_id,
    source_stream: r.source_stream,
    recipient: r.recipient,
    subject: r.subject,
    status: r.status,
    attempts: r.attempts,
    last_error: r.last_error,
    message_id: r.message_id,
    smtp_response: r.smtp_response,
    created_at: r.created_at.toISOString(),
    updated_at: r.updated_at.toISOString(),
    last_attempt_at: iso(r.last_attempt_at),
    sent_at: iso(r.sent_at),
  };
}

export function registerNotificationRoutes(app: HttpApp, { pool }: { pool: pg.Pool }): void {
  app.get(
    '/v1/mail',
    {
      config: { access: 'read' },
      schema: {
        description: 'Mails caught by the local catcher (used when no SMTP_URL is configured), newest first.',
        tags: ['mail'],
        querystring: z.object({ limit: Limit, before: Cursor.optional(), to: z.string().max(320).optional() }),
        response: { 200: page(MailSummary) },
      },
    },
    async (request) => {
      const { limit, before, to } = request.query;
      const rows = await listCaughtMail(pool, { limit, before, to });
      return { items: rows.map(mailSummary), next_cursor: rows.length === limit ? rows.at(-1)!.id : null };
    },
  );

  app.get(
    '/v1/mail/:id',
    { config: { access: 'read' }, schema: { description: 'One caught mail with its text, HTML and headers.', tags: ['mail'], params: NumericId, response: { 200: MailDetail } } },
    async (request) => {
      const mail = await findCaughtMail(pool, request.params.id);
      if (!mail) throw new NotFoundError(`No caught mail ${request.params.id}.`, { code: 'MAIL_NOT_FOUND' });
      return { ...mailSummary(mail), text: mail.text_body, html: mail.html_body, headers: mail.headers };
    },
  );

  app.get(
    '/v1/mail/:id/raw',
    { config: { access: 'read' }, schema: { description: 'One caught mail as received (message/rfc822).', tags: ['mail'], params: NumericId } },
    async (request, reply) => {
      const raw = await findCaughtMailRaw(pool, request.params.id);
      if (raw === undefined) throw new NotFoundError(`No caught mail ${request.params.id}.`, { code: 'MAIL_NOT_FOUND' });
      return reply.type('message/rfc822').send(raw);
    },
  );

  app.get(
    '/v1/outbox',
    {
      config: { access: 'read' },
      schema: {
        description: 'Every email the service recorded (queued, sent, failed), newest first.',
        tags: ['outbox'],
        querystring: z.object({ status: z.enum(OUTBOX_STATUSES).optional(), limit: Limit, before: Cursor.optional() }),
        response: { 200: page(OutboxSummary) },
      },
    },
    async (request) => {
      const { status, limit, before } = request.query;
      const rows = await listOutbox(pool, { status, limit, before });
      return { items: rows.map(outboxSummary), next_cursor: rows.length === limit ? rows.at(-1)!.seq : null };
    },
  );

  app.get(
    '/v1/outbox/:id',
    { config: { access: 'read' }, schema: { description: 'One outbox email with its rendered text and HTML.', tags: ['outbox'], params: Uuid, response: { 200: OutboxDetail } } },
    async (request) => {
      const row = await findOutbox(pool, request.params.id);
      if (!row) throw new NotFoundError(`No outbox email ${request.params.id}.`, { code: 'OUTBOX_EMAIL_NOT_FOUND' });
      return { ...outboxSummary(row), text: row.text_body, html: row.html_body };
    },
  );
}
