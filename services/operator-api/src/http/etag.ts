/**
 * Optimistic concurrency over HTTP: a resource's ETag is its stream version; an update
 * must send it back in If-Match and becomes the command's expected_version, so a change
 * made by someone else in between is answered 412 instead of being overwritten.
 */
import type { FastifyReply } from 'fastify';
import { AppError, PreconditionFailedError, ValidationError } from '@fairlead/platform';

export const etagOf = (version: number): string => `"${version}"`;

export function setEtag(reply: FastifyReply, version: number): void {
  void reply.header('etag', etagOf(version));
}

/** The version an If-Match header names; 428 when missing, 400 when not an ETag of ours. */
export function requireIfMatch(header: string | string[] | undefined): number {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '') {
    throw new AppError('PRECONDITION_REQUIRED', 'Updates need an If-Match header with the ETag of the resource as you read it.', { status: 428 });
  }
  const match = /^\s*(?:W\/)?"?(\d{1,9})"?\s*$/.exec(value);
  if (!match?.[1]) {
    throw new ValidationError('If-Match must be an ETag this API returned (e.g. "3").', [{ pointer: '/headers/if-match', detail: 'not an ETag of this API', code: 'invalid_etag' }], {
      code: 'INVALID_ETAG',
    });
  }
  return Number(match[1]);
}

/** For owners whose command takes no expected_version: compare with the version read from the owner just before. */
export function assertVersion(expected: number, actual: number, what: string): void {
  if (expected !== actual) {
    throw new PreconditionFailedError(`${what} changed since you read it (ETag ${etagOf(expected)}, now ${etagOf(actual)}); read it again.`, {
      code: 'STALE_ETAG',
      details: { expected, actual },
    });
  }
}
