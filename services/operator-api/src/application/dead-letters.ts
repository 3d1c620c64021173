/**
 * The dead-letter queue (the FAIRLEAD_DLQ JetStream stream): list, inspect, redrive,
 * discard. A redrive sends the message back to its original subject with a new msgID (the
 * original one may still sit in the target stream's duplicate window) and then removes the
 * dead letter; the msgID is derived from the dead letter's sequence, so a redrive retried
 * after a crash is de-duplicated by JetStream.
 *
 * How it goes back depends on the subject (docs/security.md "Bus"):
 * - `lead.approved`: the operator API re-publishes the original payload and headers itself.
 * - a relayed event (`fairlead.events.>`, which only the relay may publish): the operator
 *   API asks the relay (`relay.republish`) to publish the STORED event the payload names
 *   again; the relay reads it from the event store, so a payload that names no stored event
 *   is refused (404) and nothing but stored events is ever republished.
 */
import type { JetStreamClient, JetStreamManager, MsgRequest, StoredMsg } from '@nats-io/jetstream';
import { headers as natsHeaders, PermissionViolationError, type MsgHdrs } from '@nats-io/nats-core';
import { RelayedEvent, type Subjects } from '@fairlead/contracts';
import { DeadLetterHeaders, readDeadLetter, type DeadLetterInfo } from '@fairlead/messaging';
import { ConflictError, NotFoundError } from '@fairlead/platform';
import type { CommandBus } from './commands';

/** Who redrives, as commands carry it. */
export interface RedriveActor {
  actor_id: string;
  actor_role: 'admin' | 'operator' | 'viewer' | 'system';
}

export interface DeadLetterSummary {
  seq: number;
  subject: string;
  received_at: Date;
  reason: string | null;
  error: string | null;
  attempts: number | null;
  original_subject: string | null;
  original_stream: string | null;
  consumer: string | null;
  first_failure_at: Date | null;
  last_failure_at: Date | null;
  /** The lead the message is about, when its payload names one. */
  lead_id: string | null;
  /** The relayed event's type, when the payload is a relayed event. */
  event_type: string | null;
}

export interface DeadLetter extends DeadLetterSummary {
  headers: Record<string, string[]>;
  issues: unknown[] | null;
  /** The payload: parsed JSON when it is JSON, else its UTF-8 text (only its start when truncated). */
  payload: unknown;
  /** Size of the original payload (the dead letter may keep only its start). */
  payload_bytes: number;
  /** SHA-256 of the original payload, when recorded. */
  payload_sha256: string | null;
  /** Only the start of the payload is kept: it was too large to keep whole (it cannot be redriven). */
  payload_truncated: boolean;
}

export interface DeadLetterQueue {
  list(options: { after?: number | undefined; limit: number; subject?: string | undefined }): Promise<{ items: DeadLetterSummary[]; next_after: number | null; total: number }>;
  get(seq: number): Promise<DeadLetter>;
  /** Re-publishes and removes; returns where it went. */
  redrive(seq: number, by: RedriveActor): Promise<{ seq: number; subject: string; stream: string; stream_seq: number; msg_id: string; dead_letter: DeadLetter }>;
  discard(seq: number): Promise<DeadLetter>;
}

const DLQ_PREFIX = 'fairlead-dlq-';

function decodePayload(data: Uint8Array): unknown {
  const text = Buffer.from(data).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

// The start of a truncated payload is not JSON; its lead id is still worth finding.
const LEAD_ID_IN_TEXT = /"lead_id"\s*:\s*"([A-Za-z0-9_-]{1,128})"/;
const EVENT_TYPE_IN_TEXT = /^\{"event_id":"[^"]*","stream":"[^"]*","type":"([A-Za-z0-9_]{1,200})"/;

/** What a payload is about: a relayed event (with a lead id in its data) or a lead.approved message. */
function aboutOf(payload: unknown): { lead_id: string | null; event_type: string | null } {
  if (typeof payload === 'string') return { lead_id: LEAD_ID_IN_TEXT.exec(payload)?.[1] ?? null, event_type: EVENT_TYPE_IN_TEXT.exec(payload)?.[1] ?? null };
  if (typeof payload !== 'object' || payload === null) return { lead_id: null, event_type: null };
  const p = payload as { type?: unknown; data?: { lead_id?: unknown }; lead_id?: unknown };
  const eventType = typeof p.type === 'string' ? p.type : null;
  const leadId = typeof p.data?.lead_id === 'string' ? p.data.lead_id : typeof p.lead_id === 'string' ? p.lead_id : null;
  return { lead_id: leadId, event_type: eventType };
}

function headerRecord(h: MsgHdrs | undefined): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  if (h) for (const [key, values] of h) out[key] = [...values];
  return out;
}

function summarize(msg: StoredMsg, info: DeadLetterInfo | undefined, payload: unknown): DeadLetterSummary {
  return {
    seq: msg.seq,
    subject: msg.subject,
    received_at: msg.time,
    reason: info?.reason ?? null,
    error: info?.error ?? null,
    attempts: info && Number.isFinite(info.attempts) ? info.attempts : null,
    original_subject: info?.originalSubject || null,
    original_stream: info?.originalStream || null,
    consumer: info?.consumer || null,
    first_failure_at: info && !Number.isNaN(info.firstFailureAt.getTime()) ? info.firstFailureAt : null,
    last_failure_at: info && !Number.isNaN(info.lastFailureAt.getTime()) ? info.lastFailureAt : null,
    ...aboutOf(payload),
  };
}

function safeInfo(h: MsgHdrs | undefined): DeadLetterInfo | undefined {
  try {
    return readDeadLetter(h);
  } catch {
    // A malformed issues header must not hide the message from operators.
    return undefined;
  }
}

export function createDeadLetterQueue(deps: { jsm: JetStreamManager; js: JetStreamClient; subjects: Subjects; bus: CommandBus }): DeadLetterQueue {
  const stream = deps.subjects.streams.deadLetters;

  const toDeadLetter = (msg: StoredMsg): DeadLetter => {
    const h = msg.header as MsgHdrs | undefined;
    const info = safeInfo(h);
    const payload = decodePayload(msg.data);
    return {
      ...summarize(msg, info, payload),
      headers: headerRecord(h),
      issues: info?.issues ?? null,
      payload,
      payload_bytes: info?.payload?.bytes ?? msg.data.length,
      payload_sha256: info?.payload?.sha256 ?? null,
      payload_truncated: info?.payload?.truncated ?? false,
    };
  };

  const load = async (seq: number): Promise<StoredMsg> => {
    const msg = await deps.jsm.streams.getMessage(stream, { seq });
    if (!msg) throw new NotFoundError(`No dead letter with sequence ${seq}.`, { code: 'DEAD_LETTER_NOT_FOUND' });
    return msg;
  };

  /** Puts a dead letter's own payload and headers back on its subject (lead.approved; the identity may publish there). */
  const republish = async (seq: number, target: string, msg: StoredMsg, msgId: string, by: RedriveActor) => {
    const h = natsHeaders();
    const dlqHeaders = new Set(Object.values(DeadLetterHeaders).map((k) => k.toLowerCase()));
    for (const [key, values] of (msg.header as MsgHdrs | undefined) ?? []) {
      if (dlqHeaders.has(key.toLowerCase()) || key.toLowerCase().startsWith('nats-')) continue;
      for (const value of values) h.append(key, value);
    }
    h.set('Fairlead-Redriven-From', `${stream}:${seq}`);
    h.set('Fairlead-Redriven-By', by.actor_id);
    const ack = await deps.js.publish(target, msg.data, { msgID: msgId, headers: h }).catch((error: unknown) => {
      // A subject the permission table does not give the operator API (docs/security.md "Bus").
      if (error instanceof PermissionViolationError || (error as { cause?: unknown }).cause instanceof PermissionViolationError) {
        throw new ConflictError(`Dead letter ${seq} goes back to ${target}, which the operator API may not publish on; it cannot be redriven from here (discard it, or have an administrator replay it).`, {
          code: 'DEAD_LETTER_NOT_REDRIVABLE',
          details: { seq, subject: target },
        });
      }
      throw error;
    });
    return { subject: target, stream: ack.stream, stream_seq: ack.seq, msg_id: msgId };
  };

  /**
   * A relayed event: the relay publishes the stored event again (only it may publish events).
   * The payload only says WHICH event; one that names none (malformed, or forged) is refused.
   */
  const republishStoredEvent = async (seq: number, target: string, letter: DeadLetter, by: RedriveActor) => {
    const named = RelayedEvent.safeParse(letter.payload);
    if (!named.success) {
      throw new ConflictError(`Dead letter ${seq} on ${target} does not name a stored event (its payload is not a relayed event); it cannot be redriven (discard it).`, {
        code: 'DEAD_LETTER_NOT_REDRIVABLE',
        details: { seq, subject: target },
      });
    }
    const { event_id, stream: eventStream, stream_version } = named.data;
    const reply = await deps.bus.send('relay', 'republish', { event_id, stream: eventStream, stream_version, redrive_id: `${stream}-${seq}`, actor: by });
    return { subject: reply.subject, stream: reply.stream, stream_seq: reply.stream_seq, msg_id: reply.msg_id };
  };

  return {
    list: async ({ after, limit, subject }) => {
      const filter = subject ? deps.subjects.deadLetterSubject(subject) : `${deps.subjects.deadLetter}.>`;
      const items: DeadLetterSummary[] = [];
      let next = (after ?? 0) + 1;
      for (;;) {
        // next_by_subj: the first message at or after `seq` (skips deleted sequences in one request).
        const msg = await deps.jsm.streams.getMessage(stream, { seq: next, next_by_subj: filter } as unknown as MsgRequest);
        if (!msg) break;
        if (items.length === limit) return { items, next_after: items[items.length - 1]!.seq, total: (await deps.jsm.streams.info(stream)).state.messages };
        const info = safeInfo(msg.header as MsgHdrs | undefined);
        items.push(summarize(msg, info, decodePayload(msg.data)));
        next = msg.seq + 1;
      }
      return { items, next_after: null, total: (await deps.jsm.streams.info(stream)).state.messages };
    },
    get: async (seq) => toDeadLetter(await load(seq)),
    redrive: async (seq, by) => {
      const msg = await load(seq);
      const letter = toDeadLetter(msg);
      if (letter.payload_truncated) {
        throw new ConflictError(`Dead letter ${seq} keeps only the first ${msg.data.length} of its ${letter.payload_bytes} bytes; it cannot be redriven (discard it, and have the sender send it again within the limits).`, {
          code: 'DEAD_LETTER_TRUNCATED',
          details: { seq, payload_bytes: letter.payload_bytes, payload_sha256: letter.payload_sha256 },
        });
      }
      const target = letter.original_subject ?? msg.subject.slice(deps.subjects.deadLetter.length + 1);
      const msgId = `${DLQ_PREFIX}${stream}-${seq}`;
      const sent = target.startsWith(`${deps.subjects.events}.`) ? await republishStoredEvent(seq, target, letter, by) : await republish(seq, target, msg, msgId, by);
      await deps.jsm.streams.deleteMessage(stream, seq);
      return { seq, subject: sent.subject, stream: sent.stream, stream_seq: sent.stream_seq, msg_id: sent.msg_id, dead_letter: letter };
    },
    discard: async (seq) => {
      const letter = toDeadLetter(await load(seq));
      await deps.jsm.streams.deleteMessage(stream, seq);
      return letter;
    },
  };
}
