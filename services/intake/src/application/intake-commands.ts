/**
 * Intake's use cases, shared by every edge (JetStream consumer, NATS commands, HTTP):
 * approve a lead (validate, check its niche with rotation, record LeadApproved and maybe
 * DistributionRequested once per lead, or record LeadRejected with the reasons) and the
 * manual distribution request. Each is one `handleCommand` on the lead's stream with the
 * lead decider (domain/lead.decider.ts): appends check the version decided on, and a
 * concurrent write makes it re-read and re-decide, a bounded number of times.
 */
import { randomUUID } from 'node:crypto';
import { jsonDepth, LEAD_LIMITS, LeadApprovedV1, streams, SYSTEM_ACTOR, type Actor, type CommandReply } from '@fairlead/contracts';
import { handleCommand, isTooManyConflictsError, type CommandHandlingDeps, type LoadContext } from '@fairlead/event-sourcing';
import { isEventIdConflictError, isPermanentAppendError, type PostgresEventStore } from '@fairlead/event-store';
import { LeadRejectedError, type RejectionCode } from '../domain/errors';
import { ids } from '../domain/ids';
import { decideDistributionRequest, initialLeadState } from '../domain/lead';
import { leadDecider } from '../domain/lead.decider';
import { malformedLead, tooDeep, tooLarge, unknownNiche, unstorable, type Rejection } from '../domain/rejection';
import { decodeLeadEvent, loadLead, loadLeadStream } from './lead-stream';
import type { NicheDirectory } from './niche-directory';
import { jsonOf, payloadForRejection } from './rejected-payload';

export type ApproveReply = CommandReply<'intake', 'approve_lead'>;
export type DistributionRequestReply = CommandReply<'intake', 'request_distribution'>;

export interface ApproveOptions {
  via: 'nats' | 'http';
  /** The delivered message's id: a redelivered rejection is then recorded once. */
  messageId?: string;
  /** JSON Pointer of the payload inside the request, for the issues of a rejection (`/body` over HTTP). */
  pointerPrefix?: string;
  /** The payload as received, when the edge has it (NATS): its size is checked, and a rejection records its digest. */
  raw?: Uint8Array;
  /** Its size in bytes when only that is known (HTTP Content-Length). */
  payloadBytes?: number;
  /** Who submitted it, as authenticated (an upstream system's key over HTTP); recorded in the events' metadata. */
  actor?: Actor;
}

/** The largest lead accepted (defaults: LEAD_LIMITS). */
export interface LeadLimits {
  /** UTF-8 bytes of the message as received. */
  maxBytes: number;
  /** Nesting of objects and arrays. */
  maxDepth: number;
}

export interface IntakeCommandsDeps {
  store: PostgresEventStore;
  niches: NicheDirectory;
  clock: () => Date;
  newId?: () => string;
  /** Re-reads after a concurrent write before giving up (default 5). */
  maxConflicts?: number;
  /** Size and depth refused before anything is stored (default LEAD_LIMITS). */
  limits?: LeadLimits;
}

export interface IntakeCommands {
  /** Accepts (or recognises as a duplicate) a `lead.approved` payload; throws LeadRejectedError after recording the rejection. */
  approve(payload: unknown, options: ApproveOptions): Promise<ApproveReply>;
  requestDistribution(request: { lead_id: string; request_id?: string | undefined; actor?: Actor | undefined }): Promise<DistributionRequestReply>;
}

export function createIntakeCommands(deps: IntakeCommandsDeps): IntakeCommands {
  const { store, niches, clock } = deps;
  const newId = deps.newId ?? randomUUID;
  const maxConflicts = deps.maxConflicts ?? 5;
  const limits = deps.limits ?? LEAD_LIMITS;
  const handling: CommandHandlingDeps = { store, newId };

  /**
   * Records the rejection: the payload itself when it is small and storable, else a
   * summary (and a summary again when the store refuses the payload).
   */
  async function recordRejection(rejection: Rejection, payload: unknown, options: ApproveOptions, whole: boolean): Promise<string> {
    try {
      return await appendRejection(rejection, payloadForRejection(payload, options.raw, whole), options);
    } catch (error) {
      if (!whole || !isPermanentAppendError(error)) throw error;
      return appendRejection(rejection, payloadForRejection(payload, options.raw, false), options);
    }
  }

  /** Appends LeadRejected to the lead's stream when it names a lead not approved yet, else to a stream of its own. */
  async function appendRejection(rejection: Rejection, kept: ReturnType<typeof payloadForRejection>, options: ApproveOptions): Promise<string> {
    const eventId = options.messageId ? ids.rejected(options.messageId) : newId();
    const data = { lead_id: rejection.lead_id, niche_id: rejection.niche_id, reasons: rejection.reasons, ...kept, received_via: options.via };
    const metadata = options.actor ? { actor: options.actor } : undefined;
    if (rejection.lead_id) {
      const stream = streams.lead(rejection.lead_id);
      try {
        const outcome = await handleCommand(handling, stream, leadDecider, { type: 'RecordRejection', eventId, rejection: data }, { decode: decodeLeadEvent, maxConflicts, ...(metadata ? { metadata } : {}) });
        if (outcome.events.length > 0) return stream;
        // The lead is approved: filed apart below.
      } catch (error) {
        if (!isTooManyConflictsError(error)) throw error;
        // Its id is stored, but not here: recorded by an earlier delivery of this message (as before the kernel, the lead's stream is answered).
        if (isEventIdConflictError(error.cause)) return stream;
        // The stream kept changing: the rejection is filed apart rather than lost.
      }
    }
    const stream = `rejectedlead-${options.messageId ? ids.rejectedStream(options.messageId) : newId()}`;
    try {
      await store.append(stream, [{ id: eventId, type: 'LeadRejected', data, ...(metadata ? { metadata } : {}) }], 'any');
    } catch (error) {
      // Recorded on the lead's stream by an earlier delivery of this message.
      if (!isEventIdConflictError(error)) throw error;
      return rejection.lead_id ? streams.lead(rejection.lead_id) : stream;
    }
    return stream;
  }

  async function reject(code: RejectionCode, rejection: Rejection, payload: unknown, options: ApproveOptions, whole = true): Promise<never> {
    const stream = await recordRejection(rejection, payload, options, whole);
    throw new LeadRejectedError(code, rejection.reasons, rejection.issues, stream);
  }

  /** Size and depth, refused before the payload is parsed any further or stored. */
  function checkLimits(payload: unknown, options: ApproveOptions): Promise<never> | undefined {
    const known = options.raw?.length ?? options.payloadBytes;
    if (known !== undefined && known > limits.maxBytes) return reject('LEAD_TOO_LARGE', tooLarge(payload, known, limits.maxBytes, options.pointerPrefix), payload, options);
    if (jsonDepth(payload, limits.maxDepth) > limits.maxDepth) return reject('LEAD_TOO_DEEP', tooDeep(payload, limits.maxDepth, options.pointerPrefix), payload, options);
    if (known === undefined) {
      const bytes = Buffer.byteLength(jsonOf(payload) ?? '');
      if (bytes > limits.maxBytes) return reject('LEAD_TOO_LARGE', tooLarge(payload, bytes, limits.maxBytes, options.pointerPrefix), payload, options);
    }
    return undefined;
  }

  return {
    approve: async (payload, options) => {
      const refused = checkLimits(payload, options);
      if (refused) return refused;
      const parsed = LeadApprovedV1.safeParse(payload);
      if (!parsed.success) return reject('LEAD_INVALID', malformedLead(payload, parsed.error, options.pointerPrefix), payload, options);
      const lead = parsed.data;
      const duplicate: ApproveReply = { lead_id: lead.lead_id, status: 'duplicate', distribution_requested: false };
      const niche = await niches.lookup(lead.niche_id);
      if (!niche) {
        // A repeat of a lead approved earlier stays a duplicate, whatever became of its niche.
        if ((await loadLead(store, lead.lead_id)).lead) return duplicate;
        return reject('UNKNOWN_NICHE', unknownNiche(lead.lead_id, lead.niche_id, options.pointerPrefix), payload, options);
      }
      const approval = { lead, receivedVia: options.via, autoDistribute: niche.auto_distribute, now: clock() };
      try {
        const outcome = await handleCommand(handling, streams.lead(lead.lead_id), leadDecider, { type: 'ApproveLead', approval }, {
          load: assumeNewLead(lead.lead_id),
          maxConflicts,
          metadata: { received_via: options.via, ...(options.actor ? { actor: options.actor } : {}) },
        });
        // Nothing new stored: approved before (decided so, or this very approval stored by an earlier delivery).
        if (outcome.appended === 0) return duplicate;
        return { lead_id: lead.lead_id, status: 'accepted', distribution_requested: outcome.events.some((e) => e.type === 'DistributionRequested') };
      } catch (error) {
        // Valid, but the store will never hold it (text jsonb refuses, too large): refused now, not retried for minutes.
        if (isPermanentAppendError(error)) {
          return reject('LEAD_UNSTORABLE', unstorable(lead.lead_id, lead.niche_id, (error as Error).message, options.pointerPrefix), payload, options, false);
        }
        throw error;
      }
    },

    requestDistribution: async (r) => {
      const request = { lead_id: r.lead_id, request_id: r.request_id ?? newId(), actor: r.actor ?? SYSTEM_ACTOR, now: clock() };
      const requestIdGiven = r.request_id !== undefined;
      const outcome = await handleCommand(handling, streams.lead(r.lead_id), leadDecider, { type: 'RequestDistribution', request, requestIdGiven }, {
        decode: decodeLeadEvent,
        maxConflicts,
        metadata: { actor: request.actor },
      });
      // The reply is the decision on the state it was taken on (queued, or the request already queued or done).
      const decision = decideDistributionRequest(outcome.before, request, requestIdGiven);
      return { lead_id: r.lead_id, status: decision.status, request_id: decision.request_id };
    },
  };

  /**
   * Nearly every approval is a lead's first: the first attempt decides as if the stream
   * were new (the niche comes from the cache) and lets the append's 'no_stream' find out
   * otherwise, rather than read the stream first every time; after a lost race it reads.
   */
  function assumeNewLead(leadId: string) {
    return ({ afterConflict }: LoadContext) => (afterConflict ? loadLeadStream(store, leadId) : Promise.resolve({ state: initialLeadState(), version: -1 }));
  }
}
