import type { Msg, MsgHdrs, NatsConnection, Subscription } from '@nats-io/nats-core';
import { RequestError, TimeoutError } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import { z } from 'zod';
import { ERROR_KINDS, kindOfCode, kindOfStatus, statusOfCode, type ErrorKind } from '@fairlead/contracts';
import { decodeJson, encodePayload, outgoingHeaders, toWireIssues, type HeadersInit } from './codec';
import { InvalidResponseError, NoRespondersError, RemoteError, RequestTimeoutError, type WireIssue } from './errors';
import { componentLogger } from './logger';
import { tracePropagator } from './trace';

/** Codes a request server answers with on its own; handlers add theirs by throwing errors with a `code`. */
export const ReplyErrorCodes = {
  InvalidRequest: 'INVALID_REQUEST',
  Internal: 'INTERNAL_ERROR',
} as const;

const WireIssueSchema = z.object({ path: z.array(z.union([z.string(), z.number()])), code: z.string(), message: z.string() });

/**
 * The reply envelope: every reply is one of these two shapes. A refusal carries its code
 * with its HTTP status and kind (the error catalogue, @fairlead/contracts), so callers
 * answer it by what it means, not by how its code is spelled. Status and kind are optional
 * on the way in: a responder from before they travelled sends neither.
 */
export const ReplyEnvelope = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), value: z.unknown() }),
  z.object({
    ok: z.literal(false),
    error: z.object({
      code: z.string(),
      message: z.string(),
      status: z.number().int().min(400).max(599).optional().describe('The HTTP status the refusal is answered with'),
      kind: z.enum(Object.keys(ERROR_KINDS) as [ErrorKind, ...ErrorKind[]]).optional().describe('What kind of failure it is (the error catalogue)'),
      issues: z.array(WireIssueSchema).optional(),
    }),
  }),
]);
export type ReplyEnvelope = z.infer<typeof ReplyEnvelope>;

export interface RequestContext {
  subject: string;
  headers: MsgHdrs | undefined;
}

export interface ServeRequestsOptions<S extends z.ZodType> {
  /** Requests failing this schema are answered with INVALID_REQUEST and the issues, without calling the handler. */
  requestSchema: S;
  /** Returns the reply value; a thrown error with a string `code` is answered with that code and message. */
  handler: (request: z.output<S>, ctx: RequestContext) => Promise<unknown> | unknown;
  /** Queue group: instances sharing it split the requests (default: the subject). */
  queue?: string;
  logger?: Logger;
}

export interface RequestServer {
  /** Stops taking requests and waits for the ones in progress to be answered. */
  stop(): Promise<void>;
}

/** Answers requests on `subject` with the JSON reply envelope. */
export function serveRequests<S extends z.ZodType>(nc: NatsConnection, subject: string, options: ServeRequestsOptions<S>): RequestServer {
  const logger = componentLogger(options.logger, { component: 'request-server', subject });
  const inFlight = new Set<Promise<void>>();
  const sub: Subscription = nc.subscribe(subject, {
    queue: options.queue ?? subject,
    callback: (err, msg) => {
      if (err) {
        logger.error({ err }, 'request subscription failed');
        return;
      }
      const work = answer(msg)
        .catch((error: unknown) => logger.error({ err: error }, 'could not answer a request'))
        .finally(() => inFlight.delete(work));
      inFlight.add(work);
    },
  });

  async function answer(msg: Msg): Promise<void> {
    if (!msg.reply) {
      logger.warn('message without a reply subject ignored');
      return;
    }
    const reply = await tracePropagator().withExtracted(msg.headers, () => replyFor(msg), {
      name: `handle ${msg.subject}`,
      kind: 'server',
      attributes: { 'messaging.system': 'nats', 'messaging.destination.name': msg.subject },
    });
    const headers = outgoingHeaders();
    try {
      msg.respond(encodePayload(reply), { headers });
    } catch (error) {
      logger.warn({ err: error }, 'could not send the reply');
    }
  }

  async function replyFor(msg: Msg): Promise<ReplyEnvelope> {
    const decoded = decodeJson(msg.data);
    if (!decoded.ok) return failure(ReplyErrorCodes.InvalidRequest, decoded.error, 400);
    const parsed = options.requestSchema.safeParse(decoded.value);
    if (!parsed.success) return failure(ReplyErrorCodes.InvalidRequest, 'request does not match its schema', 400, toWireIssues(parsed.error.issues));
    try {
      const value = await options.handler(parsed.data, { subject: msg.subject, headers: msg.headers });
      return { ok: true, value: value ?? null };
    } catch (error) {
      const { code, status } = (error ?? {}) as { code?: unknown; status?: unknown };
      if (typeof code === 'string' && error instanceof Error) {
        // The error's own status (the platform's error types carry one), else the catalogue's.
        return failure(code, error.message, typeof status === 'number' && status >= 400 && status <= 599 ? status : statusOfCode(code));
      }
      // Unexpected failures keep their details in our log, not in someone else's reply.
      logger.error({ err: error }, 'request handler failed');
      return failure(ReplyErrorCodes.Internal, 'internal error', 500);
    }
  }

  return {
    stop: async () => {
      await sub.drain();
      await Promise.allSettled([...inFlight]);
    },
  };
}

function failure(code: string, message: string, status: number, issues?: WireIssue[]): ReplyEnvelope {
  const error = { code, message, status, kind: kindOfStatus(status) };
  return { ok: false, error: issues ? { ...error, issues } : error };
}

export interface RequestOptions<T> {
  /** Validates the reply value; a mismatch throws InvalidResponseError. */
  responseSchema?: z.ZodType<T>;
  /** How long to wait for the reply (default 5000 ms). */
  timeoutMs?: number;
  headers?: HeadersInit;
}

/**
 * Sends a JSON request and returns the reply value. Throws RequestTimeoutError,
 * NoRespondersError, RemoteError (the responder's code, message and issues) or
 * InvalidResponseError. Not retried: a request may not be idempotent.
 */
export async function request<T = unknown>(nc: NatsConnection, subject: string, payload: unknown, options: RequestOptions<T> = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const headers = outgoingHeaders(options.headers);
  let msg: Msg;
  try {
    msg = await nc.request(subject, encodePayload(payload), { timeout: timeoutMs, headers });
  } catch (error) {
    if (error instanceof TimeoutError) throw new RequestTimeoutError(subject, timeoutMs, { cause: error });
    if (error instanceof RequestError && error.isNoResponders()) throw new NoRespondersError(subject, { cause: error });
    throw error;
  }
  const decoded = decodeJson(msg.data);
  const envelope = decoded.ok ? ReplyEnvelope.safeParse(decoded.value) : undefined;
  if (!envelope?.success) {
    const issues = envelope ? toWireIssues(envelope.error.issues) : [{ path: [], code: 'invalid_json', message: decoded.ok ? '' : decoded.error }];
    throw new InvalidResponseError(subject, issues);
  }
  const reply = envelope.data;
  if (!reply.ok) {
    const { code, message, issues, status, kind } = reply.error;
    throw new RemoteError(code, message, subject, issues, status ?? statusOfCode(code), kind ?? kindOfCode(code));
  }
  if (!options.responseSchema) return reply.value as T;
  const value = options.responseSchema.safeParse(reply.value);
  if (!value.success) throw new InvalidResponseError(subject, toWireIssues(value.error.issues));
  return value.data;
}
