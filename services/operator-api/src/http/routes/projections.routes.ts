/**
 * The readers of the event log (every service's projections and the relay): their status
 * across the system, and what an operator does about one stalled on an event it cannot
 * handle — retry it (after a fix; operators) or park it for good (admins). Both are
 * recorded as events on `projection-<name>` (ProjectionRetryRequested /
 * ProjectionEventParked): the stalled reader watches that stream wherever it runs, a
 * restart or a rebuild keeps a park, and the audit log shows who did what and why.
 */
import { z } from 'zod';
import { ProjectionName, ReaderStatus, streams, type DistributionEventData } from '@fairlead/contracts';
import { actorOf, ConflictError, NotFoundError, principalOf, stalledReaderMessage, type HttpApp } from '@fairlead/platform';
import type { ReaderEntry } from '../../application/readers';
import { recordEventAction } from '../../projections/audit/audit.projection';
import type { ApiContext } from '../context';
import { problemResponses } from '../schemas';

const P = '/api/v1/admin/projections';
const tags = ['projections'];
const Params = z.object({ name: ProjectionName });

const Reader = ReaderStatus.extend({
  service: z.string().describe('the service running it'),
  instance: z.string().describe('the process (several may run the same projection)'),
  message: z.string().nullable().describe('"projection X stalled at position N …" while stalled'),
});
const Accepted = z.object({ projection: z.string(), event_id: z.string().nullable(), action: z.enum(['retry_requested', 'parked']), stream_version: z.number().int() });

const view = (r: ReaderEntry): z.infer<typeof Reader> => ({ ...r, message: stalledReaderMessage(r) ?? null });

export function registerProjectionRoutes(app: HttpApp, ctx: ApiContext): void {
  /** The reader's entries as its processes report them now; 404 when none answers. */
  const entriesOf = async (name: string): Promise<ReaderEntry[]> => {
    const entries = (await ctx.readers.list()).filter((r) => r.name === name);
    if (entries.length === 0) throw new NotFoundError(`No running process reports a projection named ${name}.`, { code: 'PROJECTION_NOT_FOUND', details: { projection: name } });
    return entries;
  };
  /** Appends the operator's decision, and writes its audit entry at once (the audit projection may itself be the stalled one). */
  const record = async <T extends 'ProjectionRetryRequested' | 'ProjectionEventParked'>(type: T, data: DistributionEventData<T>): Promise<number> => {
    const stream = streams.projection(data.projection);
    const id = ctx.newId();
    const result = await ctx.store.append(stream, [{ id, type, data, metadata: { actor: data.actor } }], 'any');
    const stored = (await ctx.store.readStream(stream, result.nextExpectedVersion)).find((e) => e.id === id);
    if (stored) await recordEventAction(ctx.pool, stored);
    return result.nextExpectedVersion;
  };

  app.get(
    P,
    {
      config: { access: 'read' },
      schema: {
        tags,
        summary: 'Every reader of the event log (projections and the relay): position, and the event it is stalled on, if any',
        querystring: z.object({ state: z.enum(['running', 'stalled']).optional() }),
        response: { 200: z.object({ items: z.array(Reader), stalled: z.number().int() }), ...problemResponses() },
      },
    },
    async (request) => {
      const all = await ctx.readers.list();
      const items = all.filter((r) => !request.query.state || r.state === request.query.state).map(view);
      return { items, stalled: all.filter((r) => r.state === 'stalled').length };
    },
  );

  app.post(
    `${P}/:name/retry`,
    {
      config: { access: 'operate' },
      schema: {
        tags,
        summary: 'Try the event a stalled projection (or the relay) is stopped at again — after fixing what made it fail',
        params: Params,
        response: { 202: Accepted, ...problemResponses(404, 409) },
      },
    },
    async (request, reply) => {
      const { name } = request.params;
      const stalled = (await entriesOf(name)).find((r) => r.stalled);
      if (!stalled?.stalled) throw new ConflictError(`Projection ${name} is not stalled; there is nothing to retry.`, { code: 'PROJECTION_NOT_STALLED', details: { projection: name } });
      const principal = principalOf(request);
      const version = await record('ProjectionRetryRequested', { projection: name, event_id: stalled.stalled.event_id, actor: actorOf(principal), at: ctx.clock().toISOString() });
      return reply.code(202).send({ projection: name, event_id: stalled.stalled.event_id, action: 'retry_requested' as const, stream_version: version });
    },
  );

  app.post(
    `${P}/:name/park`,
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: 'Skip, for good, the event a stalled projection (or the relay) is stopped at; it goes on after it (recorded in the audit log)',
        description: 'The event is named in the body, so that a park never lands on another event than the one the operator looked at.',
        params: Params,
        body: z.object({ event_id: z.string().min(1).max(200), reason: z.string().trim().min(1).max(500) }),
        response: { 202: Accepted, ...problemResponses(404, 409) },
      },
    },
    async (request, reply) => {
      const { name } = request.params;
      const { event_id, reason } = request.body;
      const stalled = (await entriesOf(name)).find((r) => r.stalled?.event_id === event_id)?.stalled;
      if (!stalled) {
        throw new ConflictError(`Projection ${name} is not stalled at event ${event_id}; only the event it is stopped at can be parked.`, {
          code: 'PROJECTION_NOT_STALLED_AT_EVENT',
          details: { projection: name, event_id },
        });
      }
      const principal = principalOf(request);
      const version = await record('ProjectionEventParked', {
        projection: name,
        event_id,
        event_type: stalled.event_type,
        stream: stalled.stream,
        global_position: stalled.global_position,
        error: stalled.error,
        reason,
        actor: actorOf(principal),
        at: ctx.clock().toISOString(),
      });
      return reply.code(202).send({ projection: name, event_id, action: 'parked' as const, stream_version: version });
    },
  );
}
