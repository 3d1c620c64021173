/**
 * Validation of append() arguments, shared by every adapter so they refuse the same
 * malformed requests with the same typed error before touching storage.
 */
import { z } from 'zod';
import { InvalidAppendError } from './errors';
import type { ExpectedVersion, NewEvent } from './types';

const streamName = z.string().min(1).max(512);

const newEvent = z.object({
  id: z.string().min(1).max(200),
  type: z.string().min(1).max(200),
  // JSON.stringify(undefined) is undefined: data must be a JSON value.
  data: z.unknown().refine((value) => value !== undefined, 'data is required'),
  metadata: z.record(z.string(), z.unknown()).optional(),
});

const expectedVersion = z.union([z.literal('no_stream'), z.literal('any'), z.number().int().min(0)]);

const appendArgs = z
  .object({ stream: streamName, events: z.array(newEvent).min(1, 'an append needs at least one event'), expected: expectedVersion })
  .superRefine((value, ctx) => {
    const seen = new Set<string>();
    for (const event of value.events) {
      if (seen.has(event.id)) ctx.addIssue({ code: 'custom', message: `event id ${event.id} appears twice`, path: ['events'] });
      seen.add(event.id);
    }
  });

/** Throws InvalidAppendError unless the arguments form a valid append. */
export function validateAppend(stream: string, events: readonly NewEvent[], expected: ExpectedVersion): void {
  const result = appendArgs.safeParse({ stream, events, expected });
  if (!result.success) {
    const issues = result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new InvalidAppendError(`invalid append to ${JSON.stringify(stream)}: ${issues.join('; ')}`, issues);
  }
}

/** The stream's category: the part of its name before the first '-'. */
export const categoryOf = (stream: string): string => {
  const dash = stream.indexOf('-');
  return dash === -1 ? stream : stream.slice(0, dash);
};
