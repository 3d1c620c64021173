/**
 * Leads: the distribute / distribution-status / assignments endpoints (the response shapes
 * upstream admin tools already read: snake_case, `price_charged` in dollars),
 * the filtered list and one lead's decision record.
 */
import { z } from 'zod';
import { actorOf, NotFoundError, principalOf, type HttpApp } from '@fairlead/platform';
import { requestDistribution } from '../../application/request-distribution';
import { leadAssignmentsPage, listAssignments, type AssignmentRow } from '../../projections/assignments/assignments.queries';
import { findDecisionRecord } from '../../projections/decisions/decisions.queries';
import { LEAD_STATUSES, QUEUE_STATES } from '../../projections/leads/leads.projection';
import { effectiveQueueState, lastAttemptStatus, statusNotes } from '../../projections/leads/lead-status';
import { findLead, listLeads, type LeadRow } from '../../projections/leads/leads.queries';
import type { ApiContext } from '../context';
import { encodeCursor } from '../../projections/cursor';
import { cents, COMMAND_PROBLEMS, Cursor, Id, iso, isoOrNull, Limit, NextCursor, problemResponses, Time, TimeQuery } from '../schemas';

const P = '/api/v1/admin/leads';
const tags = ['leads'];
const LeadParams = z.object({ id: Id });
const AttemptStatus = z.enum(['success', 'failed', 'queued', 'none']);

const LeadSummary = z.object({
  lead_id: z.string(),
  niche_id: z.string().nullable(),
  status: z.enum(LEAD_STATUSES),
  received_at: Time,
  approved_at: Time.nullable(),
  consumer_name: z.string().nullable(),
  postal_code: z.string().nullable(),
  state: z.string().nullable(),
  queue_state: z.enum(QUEUE_STATES).describe('the distribution work item: none, queued, in_progress, retrying, dead_lettered, completed'),
  last_attempt_status: AttemptStatus,
  attempts: z.number().int(),
  last_attempt_at: Time.nullable(),
  last_error: z.string().nullable(),
  outcome: z.enum(['success', 'partial', 'no_eligible', 'failed']).nullable(),
  start_level_order_position: z.number().int().nullable(),
  assignments_count: z.number().int(),
  skipped_count: z.number().int(),
  completed_at: Time.nullable(),
});

const leadSummary = (l: LeadRow): z.infer<typeof LeadSummary> => ({
  lead_id: l.lead_id,
  niche_id: l.niche_id,
  status: l.status,
  received_at: iso(l.received_at),
  approved_at: isoOrNull(l.approved_at),
  consumer_name: l.consumer_name,
  postal_code: l.postal_code,
  state: l.state,
  queue_state: effectiveQueueState(l),
  last_attempt_status: lastAttemptStatus(l),
  attempts: l.attempts,
  last_attempt_at: isoOrNull(l.last_attempt_at),
  last_error: l.last_error,
  outcome: l.outcome,
  start_level_order_position: l.start_order_position,
  assignments_count: l.assignments_count,
  skipped_count: l.skipped_count,
  completed_at: isoOrNull(l.completed_at),
});

export const AssignmentItem = z.object({
  assignment_id: z.string(),
  lead_id: z.string(),
  niche_id: z.string(),
  provider_id: z.string(),
  provider_name: z.string().nullable(),
  subscription_id: z.string(),
  competition_level_id: z.string(),
  level_name: z.string(),
  level_order_position: z.number().int(),
  price_charged: z.number().describe('dollars'),
  price_charged_cents: z.number().int(),
  assigned_at: Time,
  status: z.enum(['active', 'refunded']),
});

export const assignmentItem = (a: AssignmentRow): z.infer<typeof AssignmentItem> => ({
  assignment_id: a.assignment_id,
  lead_id: a.lead_id,
  niche_id: a.niche_id,
  provider_id: a.provider_id,
  provider_name: a.provider_name,
  subscription_id: a.subscription_id,
  competition_level_id: a.level_id,
  level_name: a.level_name,
  level_order_position: a.order_position,
  price_charged: cents(a.price_cents),
  price_charged_cents: a.price_cents,
  assigned_at: iso(a.assigned_at),
  status: a.status,
});

async function requireLead(ctx: ApiContext, id: string): Promise<LeadRow> {
  const lead = await findLead(ctx.pool, id);
  if (!lead) throw new NotFoundError(`Lead ${id} is unknown (or not yet projected).`, { code: 'LEAD_NOT_FOUND' });
  return lead;
}

export function registerLeadRoutes(app: HttpApp, ctx: ApiContext): void {
  app.post(
    `${P}/:id/distribute`,
    {
      config: { access: 'operate' },
      schema: {
        tags,
        summary: 'Queue the distribution of an approved lead (202); a distributed lead is answered without distributing again (200)',
        params: LeadParams,
        response: {
          200: z.object({ lead_id: z.string(), status: z.literal('already_distributed'), request_id: z.null(), message: z.string() }),
          202: z.object({ lead_id: z.string(), status: z.enum(['queued', 'already_queued']), request_id: z.string().nullable(), message: z.string() }),
          ...problemResponses(...COMMAND_PROBLEMS),
        },
      },
    },
    async (request, reply) => {
      const answer = await requestDistribution(ctx, request.params.id, actorOf(principalOf(request)));
      if (answer.status === 'already_distributed') return reply.code(200).send({ ...answer, status: 'already_distributed', request_id: null });
      return reply.code(202).send({ ...answer, status: answer.status });
    },
  );

  app.get(
    `${P}/:id/distribution-status`,
    {
      config: { access: 'read' },
      schema: {
        tags,
        summary: "A lead's distribution status, including the work queue (queued, in progress, retrying, dead-lettered)",
        params: LeadParams,
        response: {
          200: z.object({
            lead_id: z.string(),
            lead_status: z.enum(LEAD_STATUSES),
            last_attempt_at: Time.nullable(),
            last_attempt_status: AttemptStatus,
            assignments_created: z.number().int(),
            start_level_order_position: z.number().int().nullable(),
            notes: z.string(),
            queue_state: z.enum(QUEUE_STATES),
            outcome: z.enum(['success', 'partial', 'no_eligible', 'failed']).nullable(),
            attempts: z.number().int(),
            last_error: z.string().nullable(),
          }),
          ...problemResponses(404),
        },
      },
    },
    async (request) => {
      const lead = await requireLead(ctx, request.params.id);
      return {
        lead_id: lead.lead_id,
        lead_status: lead.status,
        last_attempt_at: isoOrNull(lead.last_attempt_at),
        last_attempt_status: lastAttemptStatus(lead),
        assignments_created: lead.assignments_count,
        start_level_order_position: lead.start_order_position,
        notes: statusNotes(lead),
        queue_state: effectiveQueueState(lead),
        outcome: lead.outcome,
        attempts: lead.attempts,
        last_error: lead.last_error,
      };
    },
  );

  app.get(
    `${P}/:id/assignments`,
    {
      config: { access: 'read' },
      schema: {
        tags,
        summary: "A lead's assignments, newest first: page/limit, or keyset with cursor",
        params: LeadParams,
        querystring: z.object({ page: z.coerce.number().int().min(1).max(10_000).default(1), limit: Limit(200, 50), cursor: Cursor }),
        response: {
          200: z.object({
            lead_id: z.string(),
            page: z.number().int().nullable(),
            limit: z.number().int(),
            total: z.number().int().nullable(),
            items: z.array(AssignmentItem),
            next_cursor: NextCursor,
          }),
          ...problemResponses(404),
        },
      },
    },
    async (request) => {
      const { id } = request.params;
      const { page, limit, cursor } = request.query;
      await requireLead(ctx, id);
      if (cursor !== undefined) {
        const result = await listAssignments(ctx.pool, { lead_id: id, cursor, limit });
        return { lead_id: id, page: null, limit, total: null, items: result.items.map(assignmentItem), next_cursor: result.next_cursor };
      }
      const { total, items } = await leadAssignmentsPage(ctx.pool, id, page, limit);
      const last = items[items.length - 1];
      // A page also hands out the keyset cursor after its last row, so a client can switch to cursors.
      const next = page * limit < total && last ? encodeCursor({ t: last.key, id: last.assignment_id }) : null;
      return { lead_id: id, page, limit, total, items: items.map(assignmentItem), next_cursor: next };
    },
  );

  app.get(
    P,
    {
      config: { access: 'read' },
      schema: {
        tags,
        summary: 'Leads, newest first, filtered by niche, status, work-queue state and time received; keyset pagination',
        querystring: z.object({
          niche_id: Id.optional(),
          status: z.enum(LEAD_STATUSES).optional(),
          queue_state: z.enum(QUEUE_STATES).optional().describe('the queue_state the list shows (a redriven dead letter is queued until its next attempt)'),
          from: TimeQuery.optional().describe('received at or after (ISO 8601)'),
          to: TimeQuery.optional().describe('received before (ISO 8601)'),
          cursor: Cursor,
          limit: Limit(),
        }),
        response: { 200: z.object({ items: z.array(LeadSummary), next_cursor: NextCursor }), ...problemResponses() },
      },
    },
    async (request) => {
      const result = await listLeads(ctx.pool, request.query);
      return { items: result.items.map(leadSummary), next_cursor: result.next_cursor };
    },
  );

  app.get(
    `${P}/:id`,
    { config: { access: 'read' }, schema: { tags, summary: 'One lead', params: LeadParams, response: { 200: LeadSummary, ...problemResponses(404) } } },
    async (request) => leadSummary(await requireLead(ctx, request.params.id)),
  );

  app.get(
    `${P}/:id/decision-record`,
    {
      config: { access: 'read' },
      schema: {
        tags,
        summary: "Why the lead went where it went: start level, traversal, each level's candidates in LRU order, chosen or skipped and why",
        params: LeadParams,
        // 500: a round's ProvidersSelected is missing from the log or breaks its contract
        // (DECISION_ROUND_EVENT_MISSING / DECISION_ROUND_EVENT_INVALID, naming the event).
        response: { 200: DecisionRecordSchema, ...problemResponses(404, 500) },
      },
    },
    async (request) => {
      const record = await findDecisionRecord(ctx.pool, request.params.id, ctx.storeSchema);
      if (!record) throw new NotFoundError(`No distribution has started for lead ${request.params.id}.`, { code: 'DECISION_RECORD_NOT_FOUND' });
      return { ...record, started_at: isoOrNull(record.started_at), completed_at: isoOrNull(record.completed_at) };
    },
  );
}

const LevelSnapshotSchema = z.object({
  level_id: z.string(),
  name: z.string(),
  order_position: z.number().int(),
  max_recipients: z.number().int(),
  price_per_lead_cents: z.number().int(),
});

const DecisionRecordSchema = z.object({
  lead_id: z.string(),
  niche_id: z.string(),
  request_id: z.string().nullable(),
  start_order_position: z.number().int().nullable(),
  traversal: z.array(LevelSnapshotSchema),
  started_at: Time.nullable(),
  outcome: z.string().nullable(),
  completed_at: Time.nullable(),
  duration_ms: z.number().nullable(),
  levels: z.array(
    LevelSnapshotSchema.extend({
      rounds: z.array(
        z.object({
          round: z.number().int(),
          candidates: z.array(
            z.object({
              rank: z.number().int().describe('position in least-recently-served order'),
              provider_id: z.string(),
              provider_name: z.string().nullable(),
              subscription_id: z.string(),
              last_received_at: z.string().nullable(),
              decision: z.enum(['chosen', 'skipped', 'withdrawn', 'pending', 'not_picked']),
              reason: z.string().nullable(),
              detail: z.string().nullable(),
              price_cents: z.number().int().nullable(),
              assignment_id: z.string().nullable(),
            }),
          ),
          excluded: z.array(z.object({ provider_id: z.string(), provider_name: z.string().nullable(), subscription_id: z.string(), reason: z.string() })),
        }),
      ),
    }),
  ),
});
