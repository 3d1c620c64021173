/** The audit trail: distribution actions and every operator action with who did it; filterable, keyset-paginated. */
import { z } from 'zod';
import type { HttpApp } from '@fairlead/platform';
import { listAudit } from '../../projections/audit/audit.queries';
import type { ApiContext } from '../context';
import { Cursor, Id, iso, Limit, NextCursor, problemResponses, Time, TimeQuery } from '../schemas';

const AuditItem = z.object({
  id: z.string(),
  occurred_at: Time,
  action: z.string(),
  actor: z.object({ actor_id: z.string(), actor_role: z.string() }),
  source: z.enum(['event', 'api']).describe('event: recorded by the owning service; api: an action of this API (dead-letter handling)'),
  subject: z.string(),
  lead_id: z.string().nullable(),
  niche_id: z.string().nullable(),
  provider_id: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
});

export function registerAuditRoutes(app: HttpApp, ctx: ApiContext): void {
  app.get(
    '/api/v1/admin/audit-log',
    {
      config: { access: 'read' },
      schema: {
        tags: ['audit'],
        summary: 'Audit entries, newest first',
        querystring: z.object({
          action: z
            .string()
            .regex(/^[a-z_]+(\.[a-z_]+)*(\.\*?)?$/)
            .optional()
            .describe('an action (distribution.started) or a prefix (distribution.*)'),
          actor_id: z.string().max(200).optional(),
          lead_id: Id.optional(),
          niche_id: Id.optional(),
          provider_id: Id.optional(),
          subject: z.string().max(300).optional().describe('lead:<id>, niche:<id>, provider:<id>, subscription:<id>, dlq:<seq>'),
          from: TimeQuery.optional(),
          to: TimeQuery.optional(),
          cursor: Cursor,
          limit: Limit(),
        }),
        response: { 200: z.object({ items: z.array(AuditItem), next_cursor: NextCursor }), ...problemResponses() },
      },
    },
    async (request) => {
      const result = await listAudit(ctx.pool, request.query);
      return {
        items: result.items.map((e) => ({
          id: e.id,
          occurred_at: iso(e.occurred_at),
          action: e.action,
          actor: { actor_id: e.actor_id, actor_role: e.actor_role },
          source: e.source,
          subject: e.subject,
          lead_id: e.lead_id,
          niche_id: e.niche_id,
          provider_id: e.provider_id,
          details: e.details,
        })),
        next_cursor: result.next_cursor,
      };
    },
  );
}
