/**
 * Changes go to the service that owns the stream, as NATS request/reply commands
 * (contracts: rotationCommands, billingCommands, fairnessCommands, intakeCommands). This
 * module sends them with validated requests and replies and maps the owners' answers to
 * HTTP problems by the status their refusal carries (the error catalogue): invalid → 400,
 * not found → 404, a conflict → 409, a stale expected_version → 412 (a stale ETag), anything
 * else → 502; the owner unreachable → 503, slow → 504.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import { COMMANDS, statusOfCode, type CommandReply, type CommandRequest, type CommandService, type CommandVerb, type Subjects } from '@fairlead/contracts';
import { isNoRespondersError, isRemoteError, isRequestTimeoutError, request, type WireIssue } from '@fairlead/messaging';
import { AppError, ConflictError, NotFoundError, PreconditionFailedError, toJsonPointer, ValidationError } from '@fairlead/platform';
import type { z } from 'zod';

export interface CommandBus {
  send<S extends CommandService, V extends CommandVerb<S>>(service: S, verb: V, body: CommandRequest<S, V>): Promise<CommandReply<S, V>>;
}

export interface CommandBusOptions {
  nc: NatsConnection;
  subjects: Subjects;
  /** Reply timeout per command (default 5000 ms). */
  timeoutMs?: number;
}

/** An owner's refusal as it arrived: its code, message, the status it carries (absent from an older owner) and any issues. */
export interface RemoteRefusal {
  code: string;
  message: string;
  status?: number | undefined;
  issues?: readonly WireIssue[] | undefined;
}

/** Maps an owner's refusal to the HTTP problem operators get, by its status (the catalogue's for its code when it carried none). */
export function problemOfRemote(refusal: RemoteRefusal, service: string): AppError {
  const { code, message } = refusal;
  const details = { service, remote_code: code };
  switch (refusal.status ?? statusOfCode(code)) {
    case 400: {
      // The command mirrors the request body, so the owner's issue paths point into it.
      const pointers = (refusal.issues ?? []).map((i) => ({ pointer: `/body${toJsonPointer(i.path)}`, detail: i.message, code: i.code }));
      return new ValidationError(message, pointers, { code, details });
    }
    case 404:
      return new NotFoundError(message, { code, details });
    case 409:
      return new ConflictError(message, { code, details });
    case 412:
      return new PreconditionFailedError(`${message} (the ETag is stale: read the resource again)`, { code: 'STALE_ETAG', details });
    default:
      return new AppError('UPSTREAM_ERROR', `${service} refused the command: ${message}`, { status: 502, details });
  }
}

export function createCommandBus(options: CommandBusOptions): CommandBus {
  return {
    send: async (service, verb, body) => {
      const entry = (COMMANDS[service] as Record<string, { request: z.ZodType; reply: z.ZodType }>)[verb];
      if (!entry) throw new Error(`unknown command ${service}.${verb}`);
      const subject = options.subjects.command(service, verb);
      try {
        return (await request(options.nc, subject, entry.request.parse(body), { responseSchema: entry.reply, timeoutMs: options.timeoutMs ?? 5_000 })) as never;
      } catch (error) {
        if (isRemoteError(error)) throw problemOfRemote(error, service);
        if (isNoRespondersError(error)) {
          throw new AppError('SERVICE_UNAVAILABLE', `The ${service} service is not running; nothing was changed.`, { status: 503, cause: error, details: { service } });
        }
        if (isRequestTimeoutError(error)) {
          throw new AppError('SERVICE_TIMEOUT', `The ${service} service did not answer in time; the command may or may not have been applied.`, { status: 504, cause: error, details: { service } });
        }
        throw error;
      }
    },
  };
}
