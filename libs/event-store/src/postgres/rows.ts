/**
 * Row decoding. int8 and xid8 are parsed as bigint per query (never by changing pg's
 * global parsers, which other code in the process shares), so positions round-trip exactly.
 */
import pg from 'pg';
import type { StoredEvent } from '../types';

const INT8_OID = 20;
const XID8_OID = 5069;

const toBigInt = (value: string): bigint => BigInt(value);

/** Pass as `types` in a query config. */
export const bigintTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID || oid === XID8_OID) return toBigInt;
    return pg.types.getTypeParser(oid, format ?? 'text');
  },
} as unknown as pg.CustomTypesConfig;

/** Columns selected for a StoredEvent, in the shape `toStoredEvent` reads. */
export const EVENT_COLUMNS =
  'e.global_position, e.transaction_id, e.event_id, e.stream_name, e.stream_version, e.type, e.data, e.metadata, e.created_at';

export interface EventRow {
  global_position: bigint;
  transaction_id: bigint;
  event_id: string;
  stream_name: string;
  stream_version: number;
  type: string;
  data: unknown;
  metadata: Record<string, unknown>;
  created_at: Date;
}

export const toStoredEvent = (row: EventRow): StoredEvent => ({
  id: row.event_id,
  stream: row.stream_name,
  type: row.type,
  data: row.data,
  metadata: row.metadata,
  streamVersion: row.stream_version,
  globalPosition: row.global_position,
  transactionId: row.transaction_id,
  createdAt: row.created_at,
});
