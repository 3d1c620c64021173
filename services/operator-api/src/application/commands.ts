/**
 * Changes go to the service that owns the stream, as NATS request/reply commands
 * (contracts: rotationCommands, billingCommands, fairnessCommands, intakeCommands). This
 * module sends them with validated requests and replies and maps the owners' answers to
 * HTTP problems: not found → 404, a stale expected_version → 412, invalid → 400, the
 * owner unreachable → 503, slow → 504.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import { COMMANDS, type CommandReply, type CommandRequest, type CommandService, type CommandVerb, type Subjects } from '@fairlead/contracts';
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

/** Maps an owner's error code to the HTTP problem operators get. */
export function problemOfRemote(code: string, message: string, service: string, issues: readonly WireIssue[] = []): AppError {
  const details = { service, remote_code: code };
  if (code === 'INVALID_REQUEST' || /(_INVALID|_NOT_APPROVED|VALIDATION)/.test(code)) {
    // The command mirrors the request body, so the owner's issue paths point into it.
    const pointers = issues.map((i) => ({ pointer: `/body${toJsonPointer(i.path)}`, detail: i.message, code: i.code }));
    return new ValidationError(message, pointers, { code, details });
  }
  if (code.endsWith('_NOT_FOUND') || code === 'NOT_FOUND') return new NotFoundError(message, { code, details });
  if (/VERSION_CONFLICT|CONCURRENCY|WRONG_EXPECTED_VERSION/.test(code)) return new PreconditionFailedError(`${message} (the ETag is stale: read the resource again)`, { code: 'STALE_ETAG', details });
  if (/(_EXISTS|_CONFLICT|_TAKEN|_USED|_REUSED|_LIMIT_EXCEEDED)$/.test(code) || /^(ALREADY_|NOTHING_TO_|DUPLICATE)/.test(code)) return new ConflictError(message, { code, details });
  return new AppError('UPSTREAM_ERROR', `${service} refused the command: ${message}`, { status: 502, details });
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
        if (isRemoteError(error)) throw problemOfRemote(error.code, error.message, service, error.issues);
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
