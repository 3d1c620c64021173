/**
 * The dead-letter queue: list, inspect, redrive (operators), discard (admins). Redrives
 * and discards leave no event, so the API records them in the audit log itself; a redrive
 * of a lead's distribution also marks the lead as queued again in its status.
 */
import { z } from 'zod';
import { actorOf, principalOf, type HttpApp, type Principal } from '@fairlead/platform';
import type { DeadLetter, DeadLetterSummary } from '../../application/dead-letters';
import { recordApiAction } from '../../projections/audit/audit.projection';
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
  payload_bytes: z.number().int(),
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
const detail = (d: DeadLetter): z.infer<typeof Detail> => ({ ...summary(d), headers: d.headers, issues: d.issues, payload: d.payload, payload_bytes: d.payload_bytes });

export function registerDeadLetterRoutes(app: HttpApp, ctx: ApiContext): void {
  const audit = (principal: Principal, action: 'dlq.redriven' | 'dlq.discarded', letter: DeadLetter, details: Record<string, unknown>) =>
    recordApiAction(ctx.pool, ctx.newId(), ctx.clock(), {
      action,
      actor: actorOf(principal),
      subject: `dlq:${letter.seq}`,
      lead_id: letter.lead_id,
      niche_id: null,
      provider_id: null,
      details: { original_subject: letter.original_subject, reason: letter.reason, error: letter.error, event_type: letter.event_type, ...details },
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
        summary: 'Re-publish the original message to its subject (new msgID) and remove it from the queue',
        params: Params,
        response: {
          200: z.object({ seq: z.number().int(), subject: z.string(), stream: z.string(), stream_seq: z.number().int(), msg_id: z.string(), lead_id: z.string().nullable() }),
          ...problemResponses(404),
        },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      const result = await ctx.dlq.redrive(request.params.seq, principal.sub);
      const letter = result.dead_letter;
      if (letter.lead_id && letter.event_type === 'DistributionRequested') {
        await ctx.pool.query(`update operator.leads set redriven_at = $2 where lead_id = $1`, [letter.lead_id, ctx.clock()]);
      }
      await audit(principal, 'dlq.redriven', letter, { republished_to: result.subject, stream_seq: result.stream_seq, msg_id: result.msg_id });
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
      await audit(principal, 'dlq.discarded', letter, {});
      return reply.code(204).send(null);
    },
  );
}
