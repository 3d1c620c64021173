/**
 * Intake over HTTP: the `lead.approved` payload as a POST (202 with the lead id and
 * whether it was accepted or a duplicate; 400 problem+json with every issue, the
 * rejection recorded as for NATS) and the manual distribution trigger.
 *
 * Who may call: approving needs an upstream system's API key (X-Api-Key), requesting a
 * distribution an operator's JWT (operator role, MFA), as in the operator API. The actor
 * recorded is the one the credential proves (`upstream:<key name>`, the token's subject);
 * a body cannot name one.
 */
import { z } from 'zod';
import { Id, intakeCommands } from '@fairlead/contracts';
import { actorOf, installAuth, principalOf, ProblemSchema, type ApiKeyVerifier, type HttpApp, type TokenVerifier } from '@fairlead/platform';
import type { IntakeCommands } from '../application/intake-commands';

const problems = { 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema, 404: ProblemSchema, 409: ProblemSchema, 503: ProblemSchema };

export interface IntakeHttpAuth {
  /** Operator JWTs (the operator API's verifier options). */
  verify: TokenVerifier;
  /** Upstream systems' API keys. */
  apiKeys: ApiKeyVerifier;
}

/** Installs the authentication of `/v1/` and registers the routes; further `/v1/` routes must declare their access. */
export function registerIntakeRoutes(app: HttpApp, commands: IntakeCommands, auth: IntakeHttpAuth): void {
  installAuth(app, auth.verify, { prefix: '/v1/', apiKeys: auth.apiKeys });

  app.post(
    '/v1/leads/approved',
    {
      // Intake refuses unsafe text and over-deep leads itself, so as to record each rejection (as for NATS).
      config: { access: 'upstream', ownBodyChecks: true },
      schema: {
        summary: 'Submit an approved lead (the lead.approved v1 payload)',
        description:
          'Needs an upstream API key (X-Api-Key). Validated against lead.approved v1 (see the published JSON Schema). A lead id already approved is a duplicate and changes nothing. ' +
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
      const actor = actorOf(principalOf(request));
      const answer = await commands.approve(request.body, { via: 'http', pointerPrefix: '/body', actor, ...(Number.isSafeInteger(length) ? { payloadBytes: length } : {}) });
      return reply.code(202).send(answer);
    },
  );

  app.post(
    '/v1/leads/:id/distribute',
    {
      config: { access: 'operate' },
      schema: {
        summary: "Request a lead's distribution (manual trigger)",
        description:
          'Needs an operator JWT (operator or admin role, MFA); the token subject is recorded as who asked. ' +
          'Queues a distribution unless the lead is already distributed (already_distributed) or a request is pending (already_queued). ' +
          '404 for an unknown lead, 409 for a lead that is not approved.',
        tags: ['leads'],
        params: z.object({ id: Id }),
        // No body at all is fine (fastify hands that over as null).
        body: z.object({ request_id: Id.optional() }).strict().nullish(),
        response: { 202: intakeCommands.request_distribution.reply, ...problems },
      },
    },
    async (request, reply) => {
      const answer = await commands.requestDistribution({ lead_id: request.params.id, request_id: request.body?.request_id, actor: actorOf(principalOf(request)) });
      return reply.code(202).send(answer);
    },
  );
}
