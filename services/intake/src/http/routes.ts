/**
 * Intake over HTTP: the `lead.approved` payload as a POST (202 with the lead id and
 * whether it was accepted or a duplicate; 400 problem+json with every issue, the
 * rejection recorded as for NATS) and the manual distribution trigger.
 */
import { z } from 'zod';
import { Actor, Id, intakeCommands } from '@fairlead/contracts';
import { ProblemSchema, type HttpApp } from '@fairlead/platform';
import type { IntakeCommands } from '../application/intake-commands';

const problems = { 400: ProblemSchema, 404: ProblemSchema, 409: ProblemSchema, 503: ProblemSchema };

export function registerIntakeRoutes(app: HttpApp, commands: IntakeCommands): void {
  app.post(
    '/v1/leads/approved',
    {
      schema: {
        summary: 'Submit an approved lead (the lead.approved v1 payload)',
        description:
          'Validated against lead.approved v1 (see the published JSON Schema). A lead id already approved is a duplicate and changes nothing. ' +
          'A malformed payload or an unknown niche is rejected with every reason, and the rejection is recorded. ' +
          'A payload larger than LEAD_MAX_BYTES (64 KiB by default) or nested deeper than LEAD_MAX_DEPTH (32) is refused before anything else (LEAD_TOO_LARGE, LEAD_TOO_DEEP); ' +
          'a valid one the event store cannot hold is refused at once (LEAD_UNSTORABLE).',
        tags: ['leads'],
        // Validated by intake itself, so that a rejection is recorded with its reasons.
        body: z.unknown(),
        response: { 202: intakeCommands.approve_lead.reply, ...problems },
      },
    },
    async (request, reply) => {
      // The size as sent (checked against LEAD_MAX_BYTES before the payload goes further).
      const length = Number(request.headers['content-length']);
      const answer = await commands.approve(request.body, { via: 'http', pointerPrefix: '/body', ...(Number.isSafeInteger(length) ? { payloadBytes: length } : {}) });
      return reply.code(202).send(answer);
    },
  );

  app.post(
    '/v1/leads/:id/distribute',
    {
      schema: {
        summary: "Request a lead's distribution (manual trigger)",
        description:
          'Queues a distribution unless the lead is already distributed (already_distributed) or a request is pending (already_queued). ' +
          '404 for an unknown lead, 409 for a lead that is not approved.',
        tags: ['leads'],
        params: z.object({ id: Id }),
        // No body at all is fine (fastify hands that over as null).
        body: z.object({ request_id: Id.optional(), actor: Actor.optional() }).strict().nullish(),
        response: { 202: intakeCommands.request_distribution.reply, ...problems },
      },
    },
    async (request, reply) => {
      const answer = await commands.requestDistribution({ lead_id: request.params.id, request_id: request.body?.request_id, actor: request.body?.actor });
      return reply.code(202).send(answer);
    },
  );
}
