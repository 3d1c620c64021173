/** Every assignment, newest first, filtered by provider, niche, lead, status and time; keyset pagination. */
import { z } from 'zod';
import type { HttpApp } from '@fairlead/platform';
import { listAssignments } from '../../projections/assignments/assignments.queries';
import type { ApiContext } from '../context';
import { Cursor, Id, Limit, NextCursor, problemResponses, TimeQuery } from '../schemas';
import { AssignmentItem, assignmentItem } from './leads.routes';

export function registerAssignmentRoutes(app: HttpApp, ctx: ApiContext): void {
  app.get(
    '/api/v1/admin/assignments',
    {
      config: { access: 'read' },
      schema: {
        tags: ['assignments'],
        summary: 'Assignments across leads, newest first (keyset: the deepest page costs what the first does)',
        querystring: z.object({
          provider_id: Id.optional(),
          niche_id: Id.optional(),
          lead_id: Id.optional(),
          status: z.enum(['active', 'refunded']).optional(),
          from: TimeQuery.optional().describe('assigned at or after (ISO 8601)'),
          to: TimeQuery.optional().describe('assigned before (ISO 8601)'),
          cursor: Cursor,
          limit: Limit(),
        }),
        response: { 200: z.object({ items: z.array(AssignmentItem), next_cursor: NextCursor }), ...problemResponses() },
      },
    },
    async (request) => {
      const result = await listAssignments(ctx.pool, request.query);
      return { items: result.items.map(assignmentItem), next_cursor: result.next_cursor };
    },
  );
}
