/**
 * The dead-letter queue: list, inspect, redrive (operators), discard (admins). Redrives and
 * discards are recorded as events (DeadLetterRedriven / DeadLetterDiscarded on
 * `deadletter-<seq>`): the audit log shows who did what, and a redrive of a lead's
 * distribution marks the lead as queued again — also after a rebuild of the read models.
 */
import { z } from 'zod';
import { streams, type DistributionEventData } from '@fairlead/contracts';
import { actorOf, principalOf, type HttpApp, type Principal } from '@fairlead/platform';
import type { DeadLetter, DeadLetterSummary } from '../../application/dead-letters';
import { recordEventAction } from '../../projections/audit/audit.projection';
import { markRedriven } from '../../projections/leads/leads.projection';
import type { ApiContext } from '../context';
import { isoOrNull, iso, Limit, problemResponses, Time } from '../schemas';

const P = '/api/v1/admin/dead-letters';
const tags = ['dead-letters'];
const Params = z.object({ seq: z.coerce.number().int().positive() });

const Summary = z.object({
  seq: z.number().int(),
  subject: z.string(),
  received_at: Time,
  reason: z.string().nullable(),
  error: z.string().nullable(),
  attempts: z.number().int().nullable(),
  original_subject: z.string().nullable(),
  original_stream: z.string().nullable(),
  consumer: z.string().nullable(),
  first_failure_at: Time.nullable(),
  last_failure_at: Time.nullable(),
  lead_id: z.string().nullable(),
  event_type: z.string().nullable(),
});
const Detail = Summary.extend({
  headers: z.record(z.string(), z.array(z.string())),
  issues: z.array(z.unknown()).nullable(),
  payload: z.unknown(),
  payload_bytes: z.number().int().describe('size of the original payload'),
  payload_sha256: z.string().nullable().describe('SHA-256 of the original payload'),
  payload_truncated: z.boolean().describe('only the start of the payload is kept (it was larger than a dead letter keeps); such a dead letter cannot be redriven'),
});

const summary = (d: DeadLetterSummary): z.infer<typeof Summary> => ({
  seq: d.seq,
  subject: d.subject,
  received_at: iso(d.received_at),
  reason: d.reason,
  error: d.error,
  attempts: d.attempts,
  original_subject: d.original_subject,
  original_stream: d.original_stream,
  consumer: d.consumer,
  first_failure_at: isoOrNull(d.first_failure_at),
  last_failure_at: isoOrNull(d.last_failure_at),
  lead_id: d.lead_id,
  event_type: d.event_type,
});
const detail = (d: DeadLetter): z.infer<typeof Detail> => ({
  ...summary(d),
  headers: d.headers,
  issues: d.issues,
  payload: d.payload,
  payload_bytes: d.payload_bytes,
  payload_sha256: d.payload_sha256,
  payload_truncated: d.payload_truncated,
});

export function registerDeadLetterRoutes(app: HttpApp, ctx: ApiContext): void {
  /**
   * Records what the operator did as an event on `deadletter-<seq>` (so a rebuild of the
   * read models knows it), and applies its effects on the read models at once: the audit
   * entry and, for a redriven distribution, the lead's queued mark. The projections apply
   * the same event later to the same rows, as no-ops.
   */
  const record = async <T extends 'DeadLetterRedriven' | 'DeadLetterDiscarded'>(type: T, data: DistributionEventData<T>): Promise<void> => {
    const stream = streams.deadLetter(data.seq);
    const id = ctx.newId();
    await ctx.store.append(stream, [{ id, type, data, metadata: { actor: data.actor } }], 'any');
    const stored = (await ctx.store.readStream(stream)).find((e) => e.id === id);
    if (stored) await recordEventAction(ctx.pool, stored);
    if (type === 'DeadLetterRedriven' && data.lead_id && data.event_type === 'DistributionRequested') await markRedriven(ctx.pool, data.lead_id, new Date(data.at));
  };
  const facts = (principal: Principal, letter: DeadLetter) => ({
    seq: letter.seq,
    original_subject: letter.original_subject,
    event_type: letter.event_type,
    lead_id: letter.lead_id,
    reason: letter.reason,
    error: letter.error,
    actor: actorOf(principal),
    at: ctx.clock().toISOString(),
  });

  app.get(
    P,
    {
      config: { access: 'read' },
      schema: {
        tags,
        summary: 'Dead letters, oldest first',
        querystring: z.object({
          after: z.coerce.number().int().nonnegative().optional().describe('list after this sequence (next_after of the previous page)'),
          subject: z.string().max(300).optional().describe('only dead letters of this original subject'),
          limit: Limit(100, 50),
        }),
        response: { 200: z.object({ items: z.array(Summary), next_after: z.number().int().nullable(), total: z.number().int() }), ...problemResponses() },
      },
    },
    async (request) => {
      const page = await ctx.dlq.list(request.query);
      return { items: page.items.map(summary), next_after: page.next_after, total: page.total };
    },
  );

  app.get(`${P}/:seq`, { config: { access: 'read' }, schema: { tags, summary: 'One dead letter: headers, failure and payload', params: Params, response: { 200: Detail, ...problemResponses(404) } } }, async (request) =>
    detail(await ctx.dlq.get(request.params.seq)),
  );

  app.post(
    `${P}/:seq/redrive`,
    {
      config: { access: 'operate' },
      schema: {
        tags,
        summary: 'Send the message back to its subject (new msgID; a relayed event is republished by the relay from the event store) and remove it from the queue',
        params: Params,
        response: {
          200: z.object({ seq: z.number().int(), subject: z.string(), stream: z.string(), stream_seq: z.number().int(), msg_id: z.string(), lead_id: z.string().nullable() }),
          ...problemResponses(404, 409),
        },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const result = await ctx.dlq.redrive(request.params.seq, actorOf(principal));
      const letter = result.dead_letter;
      await record('DeadLetterRedriven', { ...facts(principal, letter), republished_to: result.subject, stream_seq: result.stream_seq, msg_id: result.msg_id });
      return { seq: result.seq, subject: result.subject, stream: result.stream, stream_seq: result.stream_seq, msg_id: result.msg_id, lead_id: letter.lead_id };
    },
  );

  app.delete(
    `${P}/:seq`,
    {
      config: { access: 'admin' },
      schema: { tags, summary: 'Discard a dead letter (recorded in the audit log)', params: Params, response: { 204: z.null().describe('discarded'), ...problemResponses(404) } },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const letter = await ctx.dlq.discard(request.params.seq);
      await record('DeadLetterDiscarded', facts(principal, letter));
      return reply.code(204).send(null);
    },
  );
}
