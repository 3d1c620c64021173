/**
 * `GET /v1/events/stream`: live updates as server-sent events, for dashboards (viewer
 * token). Each event is `id: <checkpoint>`, `event: <type>`, `data: <json>`; a client that
 * reconnects with `Last-Event-ID` first gets what it missed, then live updates. Comment
 * lines keep idle connections open. A client too slow to read is disconnected (it resumes
 * with Last-Event-ID), and the number of open streams is bounded.
 */
import { z } from 'zod';
import { compareCheckpoints } from '@fairlead/projections';
import { AppError, ValidationError, type HttpApp } from '@fairlead/platform';
import { LIVE_UPDATE_TYPES, parseCheckpointId, type LiveFeed, type LiveUpdate } from '../application/live-updates';
import { guard } from './routes';

export interface EventStreamOptions {
  /** Open streams at most (503 beyond). */
  maxStreams?: number;
  /** Interval of the keep-alive comment. */
  keepAliveMs?: number;
  /** A client whose unread output exceeds this many bytes is disconnected. */
  maxBufferedBytes?: number;
}

const Query = z.object({
  types: z
    .string()
    .max(500)
    .optional()
    .describe(`Only these update types, comma separated: ${LIVE_UPDATE_TYPES.join(', ')}`),
  last_event_id: z.string().max(50).optional().describe('Resume after this update id (or send the Last-Event-ID header)'),
});

export function registerEventStream(app: HttpApp, feed: LiveFeed, prefix: string, options: EventStreamOptions = {}): void {
  const open = new Set<() => void>();
  const maxStreams = options.maxStreams ?? 100;
  // Before the server closes: long-lived responses would otherwise hold it open.
  app.addHook('preClose', async () => {
    for (const end of [...open]) end();
  });
  app.route({
    method: 'GET',
    url: `${prefix}/events/stream`,
    config: { access: 'read' },
    preValidation: async (request) => guard(request),
    schema: {
      operationId: 'stream_events',
      description:
        'Live updates as server-sent events (Accept: text/event-stream): ticket_created, stage_completed, ticket_closed, task_queued, task_taken, task_released, worker_status, ' +
        'dependency_added/removed, project_changed, worker_type_changed. Resume with Last-Event-ID.',
      tags: ['events'],
      querystring: Query,
    },
    handler: async (request, reply) => {
      if (!String(request.headers.accept ?? '').includes('text/event-stream')) {
        throw new AppError('NOT_ACCEPTABLE', 'This endpoint streams server-sent events: send Accept: text/event-stream.', { status: 406 });
      }
      const query = Query.safeParse(request.query);
      if (!query.success) throw ValidationError.fromZod(query.error);
      const types = query.data.types ? query.data.types.split(',').map((t) => t.trim()) : undefined;
      const unknown = types?.filter((t) => !(LIVE_UPDATE_TYPES as readonly string[]).includes(t)) ?? [];
      if (unknown.length > 0) throw new AppError('VALIDATION_FAILED', `unknown update types (known: ${LIVE_UPDATE_TYPES.join(', ')})`, { status: 400 });
      const lastEventId = (request.headers['last-event-id'] as string | undefined) ?? query.data.last_event_id;
      const resumeFrom = lastEventId === undefined ? undefined : parseCheckpointId(lastEventId);
      if (lastEventId !== undefined && !resumeFrom) throw new AppError('VALIDATION_FAILED', 'Last-Event-ID is not an id of this stream', { status: 400 });
      if (open.size >= maxStreams) throw new AppError('TOO_MANY_STREAMS', 'Too many open event streams; try again later.', { status: 503 });

      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache, no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      res.write('retry: 3000\n\n');
      let lastSent = resumeFrom;
      let live = false;
      const buffered: LiveUpdate[] = [];
      const send = (update: LiveUpdate) => {
        const position = parseCheckpointId(update.id)!;
        if (lastSent && compareCheckpoints(position, lastSent) <= 0) return;
        lastSent = position;
        if (types && !types.includes(update.type)) return;
        res.write(`id: ${update.id}\nevent: ${update.type}\ndata: ${JSON.stringify(update)}\n\n`);
        if (res.writableLength > (options.maxBufferedBytes ?? 1024 * 1024)) end();
      };
      const unsubscribe = feed.subscribe((update) => (live ? send(update) : buffered.push(update)));
      const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), options.keepAliveMs ?? 15_000);
      keepAlive.unref();
      const end = () => {
        clearInterval(keepAlive);
        unsubscribe();
        open.delete(end);
        if (!res.writableEnded) res.end();
      };
      open.add(end);
      res.on('close', end);
      try {
        // Missed updates first (subscribed before, so nothing falls between replay and live).
        if (resumeFrom) await feed.replay(resumeFrom, send);
        for (const update of buffered.splice(0)) send(update);
        live = true;
      } catch (error) {
        request.log.warn({ err: error }, 'event stream replay failed');
        end();
      }
    },
  });
}
