/**
 * A service's command server: every verb of its contract (contracts' COMMANDS) served on
 * `fairlead.cmd.<service>.<verb>` by its handler, requests validated against the verb's
 * schema (an invalid one is answered INVALID_REQUEST without calling the handler), typed
 * errors answered with their code and status (serveRequests). The handlers object must
 * name every verb, so a verb added to a contract fails to compile until it is served.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { COMMANDS, type CommandReply, type CommandService, type CommandVerb, type Subjects } from '@fairlead/contracts';
import { serveRequests, type RequestContext, type RequestServer } from './request-reply';

type RequestOf<S extends CommandService, V extends CommandVerb<S>> = (typeof COMMANDS)[S][V] extends { request: infer Q extends z.ZodType } ? z.output<Q> : never;

/** One handler per verb of the service's contract: the validated request in, the reply out. */
export type CommandHandlers<S extends CommandService> = {
  [V in CommandVerb<S>]: (request: RequestOf<S, V>, context: RequestContext) => Promise<CommandReply<S, V>> | CommandReply<S, V>;
};

/** Serves every verb of `service`'s contract; `stop()` drains them all. */
export function serveCommands<S extends CommandService>(nc: NatsConnection, subjects: Subjects, service: S, handlers: CommandHandlers<S>, logger?: Logger): RequestServer {
  const spec = COMMANDS[service] as Record<string, { request: z.ZodType }>;
  const servers = Object.entries(spec).map(([verb, { request }]) =>
    serveRequests(nc, subjects.command(service, verb), {
      requestSchema: request,
      handler: (handlers as Record<string, (request: unknown, context: RequestContext) => unknown>)[verb]!,
      ...(logger ? { logger } : {}),
    }),
  );
  return { stop: async () => void (await Promise.all(servers.map((s) => s.stop()))) };
}
