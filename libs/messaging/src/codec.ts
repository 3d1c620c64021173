import { headers as natsHeaders, type MsgHdrs } from '@nats-io/nats-core';
import type { z } from 'zod';
import type { WireIssue } from './errors';
import { tracePropagator } from './trace';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Messages are JSON; a Uint8Array is sent as is (e.g. a dead letter's original bytes). */
export function encodePayload(payload: unknown): Uint8Array {
  if (payload instanceof Uint8Array) return payload;
  return encoder.encode(JSON.stringify(payload));
}

export type DecodeResult = { ok: true; value: unknown } | { ok: false; error: string };

/** Decodes UTF-8 JSON without throwing: malformed input is data to report, not a crash. */
export function decodeJson(data: Uint8Array): DecodeResult {
  try {
    return { ok: true, value: JSON.parse(decoder.decode(data)) };
  } catch (error) {
    return { ok: false, error: `payload is not valid UTF-8 JSON: ${(error as Error).message}` };
  }
}

/** Header values, as a plain record or the client's own type. */
export type HeadersInit = Record<string, string> | MsgHdrs;

/** A fresh MsgHdrs holding a copy of `init`, so callers' objects are never mutated. */
export function toHeaders(init?: HeadersInit): MsgHdrs {
  const h = natsHeaders();
  if (!init) return h;
  if (isMsgHdrs(init)) {
    for (const [k, values] of init) for (const v of values) h.append(k, v);
  } else {
    for (const [k, v] of Object.entries(init)) h.set(k, v);
  }
  return h;
}

/** Headers for an outgoing message: a copy of `init` with the active trace context injected (see trace.ts). */
export function outgoingHeaders(init?: HeadersInit): MsgHdrs {
  const h = toHeaders(init);
  tracePropagator().inject(h);
  return h;
}

function isMsgHdrs(value: HeadersInit): value is MsgHdrs {
  return typeof (value as MsgHdrs).keys === 'function' && typeof (value as MsgHdrs).get === 'function';
}

/** Header values cannot hold CR/LF, and large ones bloat every message. */
export function headerValue(value: string, maxLength = 1024): string {
  const flat = value.replace(/[\r\n]+/g, ' ');
  return flat.length > maxLength ? `${flat.slice(0, maxLength - 1)}…` : flat;
}

/** A zod issue reduced to what crosses the wire. */
export function toWireIssues(issues: readonly z.core.$ZodIssue[]): WireIssue[] {
  return issues.map((i) => ({
    path: i.path.map((p) => (typeof p === 'symbol' ? String(p) : p)),
    code: i.code,
    message: i.message,
  }));
}
