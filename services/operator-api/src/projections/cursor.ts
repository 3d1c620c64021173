/**
 * Opaque keyset cursors: the sort key of the last row of a page, as base64url JSON. The
 * read models own their sort keys, so the cursors live beside their queries (the HTTP
 * routes pass them through).
 * Keyset (not offset) pagination makes the deepest page as cheap as the first: each
 * page is one index range scan starting right after the previous page's last key.
 */
import { z } from 'zod';
import { ValidationError } from '@fairlead/platform';

export function encodeCursor(key: Record<string, unknown>): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

/** Decodes a cursor into its key, or throws a 400 (INVALID_CURSOR) naming the query parameter. */
export function decodeCursor<S extends z.ZodType>(schema: S, cursor: string): z.output<S> {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    json = undefined;
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    throw new ValidationError('The cursor is not one this API issued (or it belongs to another list).', [{ pointer: '/querystring/cursor', detail: 'invalid cursor', code: 'invalid_cursor' }], {
      code: 'INVALID_CURSOR',
    });
  }
  return parsed.data;
}

/** SQL text of a timestamptz with all its microseconds, in UTC: exact as a cursor key. */
export const exactTime = (column: string): string => `to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** A cursor key's timestamp: exact ISO text as produced by exactTime. */
export const CursorTime = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
