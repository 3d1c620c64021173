/**
 * Commands between services and from operators, sent as NATS request/reply on
 * `fairlead.cmd.<service>.<verb>` (see `commandSubject`). Each entry pairs the request
 * schema with the reply's value schema; replies travel in the messaging library's
 * `{ ok: true, value } | { ok: false, error }` envelope.
 */
import { z } from 'zod';
import { SafeText } from '../safe-text';
import { LeadApprovedV1 } from '../lead-approved';
import type { Subjects } from '../subjects';
import { Actor, BalanceCents, Cap, Id, LevelSnapshot, MaxRecipients, OrderPosition, PriceCents, ServiceArea, SubscriptionStatus, TopUpCents } from './common';

/**
 * Who asked for the change, recorded with its events. Trusted because of who may send it:
 * every command with an `actor` may be sent by the operator API's bus identity alone
 * (bus-permissions.ts; nats-server refuses everyone else), and the operator API fills it
 * with the operator it verified. A unit test fails if that stops holding.
 */
const withActor = { actor: Actor.default({ actor_id: 'system', actor_role: 'system' }) };

const Niche = z.object({
  niche_id: Id,
  name: SafeText,
  auto_distribute: z.boolean(),
  levels: z.array(LevelSnapshot.extend({ active: z.boolean() })),
  next_start_order_position: OrderPosition,
  version: z.number().int(),
});
const Provider = z.object({ provider_id: Id, name: SafeText, email: SafeText, balance_cents: BalanceCents, version: z.number().int() });
const Subscription = z.object({
  subscription_id: Id,
  provider_id: Id,
  niche_id: Id,
  level_id: Id,
  service_area: ServiceArea,
  daily_cap: Cap.nullable(),
  monthly_cap: Cap.nullable(),
  status: SubscriptionStatus,
  version: z.number().int(),
});

export const rotationCommands = {
  create_niche: {
    request: z.object({ niche_id: Id.optional(), name: SafeText.min(1).max(200), auto_distribute: z.boolean().optional(), ...withActor }),
    reply: Niche,
  },
  update_niche: {
    request: z.object({ niche_id: Id, name: SafeText.min(1).max(200).optional(), auto_distribute: z.boolean().optional(), expected_version: z.number().int().optional(), ...withActor }),
    reply: Niche,
  },
  add_level: {
    request: z.object({
      niche_id: Id,
      level_id: Id.optional(),
      name: SafeText.min(1).max(200),
      order_position: OrderPosition,
      max_recipients: MaxRecipients,
      price_per_lead_cents: PriceCents,
      active: z.boolean().default(true),
      ...withActor,
    }),
    reply: Niche,
  },
  update_level: {
    request: z.object({
      niche_id: Id,
      level_id: Id,
      name: SafeText.min(1).max(200).optional(),
      max_recipients: MaxRecipients.optional(),
      price_per_lead_cents: PriceCents.optional(),
      active: z.boolean().optional(),
      expected_version: z.number().int().optional(),
      ...withActor,
    }),
    reply: Niche,
  },
  get_niche: { request: z.object({ niche_id: Id }), reply: Niche },
  /** Atomically claims the start level for a lead; the same lead always gets the same answer. */
  claim_start_level: {
    request: z.object({ niche_id: Id, lead_id: Id }),
    reply: z.object({ niche_id: Id, lead_id: Id, start_order_position: OrderPosition, traversal: z.array(LevelSnapshot) }),
  },
  /**
   * claim_start_level for several leads of one niche at once (a batch of queued
   * distributions): one request, one lock of the niche, one transaction. New claims are
   * made in the order of `lead_ids`, so the start levels follow the rotation in that
   * order; a lead claimed before gets its first answer again. A lead that cannot be
   * claimed (NO_ACTIVE_LEVELS, LEAD_CLAIMED_IN_OTHER_NICHE) gets an error of its own; an
   * unknown niche fails the whole request (NICHE_NOT_FOUND). Results are in request order.
   */
  claim_start_levels: {
    request: z.object({
      niche_id: Id,
      lead_ids: z
        .array(Id)
        .min(1)
        .max(500)
        .refine((ids) => new Set(ids).size === ids.length, 'each lead once'),
    }),
    reply: z.object({
      niche_id: Id,
      claims: z.array(
        z.union([
          z.object({ lead_id: Id, start_order_position: OrderPosition, traversal: z.array(LevelSnapshot) }),
          z.object({ lead_id: Id, error: z.object({ code: SafeText, message: SafeText }) }),
        ]),
      ),
    }),
  },
} as const;

/** Billing's decision on one charge (the reply of `charge`, an item of `charge_many`'s). */
const ChargeReply = z.discriminatedUnion('charged', [
  z.object({ charged: z.literal(true), provider_id: Id, lead_id: Id, amount_cents: PriceCents, balance_after_cents: BalanceCents }),
  z.object({ charged: z.literal(false), provider_id: Id, lead_id: Id, amount_cents: PriceCents, balance_cents: BalanceCents, reason: z.literal('insufficient_balance') }),
]);

export const billingCommands = {
  register_provider: {
    request: z.object({ provider_id: Id.optional(), name: SafeText.min(1).max(200), email: z.email(), ...withActor }),
    reply: Provider,
  },
  /** With `expected_version`, refused (PROVIDER_VERSION_CONFLICT) unless the provider is still at that version. */
  update_provider: {
    request: z.object({
      provider_id: Id,
      name: SafeText.min(1).max(200).optional(),
      email: z.email().optional(),
      expected_version: z.number().int().optional(),
      ...withActor,
    }),
    reply: Provider,
  },
  get_provider: { request: z.object({ provider_id: Id }), reply: Provider },
  /**
   * With `idempotency_key`, a repeat of the same top-up (same provider, key, amount and
   * reference) tops up once and answers with the provider as it is now; the same key with
   * another amount or reference is refused (IDEMPOTENCY_KEY_REUSED).
   */
  top_up: {
    request: z.object({
      provider_id: Id,
      amount_cents: TopUpCents,
      reference: SafeText.max(200).default('top-up'),
      idempotency_key: SafeText.min(1).max(200).optional(),
      ...withActor,
    }),
    reply: Provider,
  },
  /** Idempotent by (lead_id, provider_id): a repeat returns the first decision. Never overdraws. */
  charge: {
    request: z.object({ provider_id: Id, lead_id: Id, subscription_id: Id, level_id: Id, amount_cents: PriceCents }),
    reply: ChargeReply,
  },
  /**
   * The charges of one lead at once, one per provider: each decided exactly as `charge`
   * would (idempotent by (lead_id, provider_id), never overdraws), all in one request and
   * one transaction. A provider billing does not know gets an error of its own; the rest
   * are still decided. Results are in the order of `charges`.
   */
  charge_many: {
    request: z.object({
      lead_id: Id,
      charges: z
        .array(z.object({ provider_id: Id, subscription_id: Id, level_id: Id, amount_cents: PriceCents }))
        .min(1)
        .max(100)
        .refine((charges) => new Set(charges.map((c) => c.provider_id)).size === charges.length, 'one charge per provider'),
    }),
    reply: z.object({
      results: z.array(z.union([ChargeReply, z.object({ provider_id: Id, error: z.object({ code: SafeText, message: SafeText }) })])),
    }),
  },
  /**
   * The charges of several leads at once (a batch of one niche's distributions), decided
   * one after another in the order given, each exactly as `charge` would decide it
   * (idempotent by (lead_id, provider_id), never overdraws; a provider may appear for
   * several leads and its balance moves between them), in one request and one transaction.
   * `stop_at_first_decline`: once a charge is declined for insufficient balance, the
   * charges of every other lead after it are not attempted (`not_attempted`; that lead's
   * own charges still are, as charge_many would), so the caller can decide those leads
   * again knowing of the decline. Results are in the order of `charges`.
   */
  charge_batch: {
    request: z.object({
      charges: z
        .array(z.object({ lead_id: Id, provider_id: Id, subscription_id: Id, level_id: Id, amount_cents: PriceCents }))
        .min(1)
        .max(2000)
        .refine((charges) => new Set(charges.map((c) => `${c.lead_id}\u0000${c.provider_id}`)).size === charges.length, 'one charge per (lead, provider)'),
      stop_at_first_decline: z.boolean().default(false),
    }),
    reply: z.object({
      results: z.array(
        z.union([
          ChargeReply,
          z.object({ provider_id: Id, lead_id: Id, not_attempted: z.literal(true) }),
          z.object({ provider_id: Id, lead_id: Id, error: z.object({ code: SafeText, message: SafeText }) }),
        ]),
      ),
    }),
  },
  refund: {
    request: z.object({ provider_id: Id, lead_id: Id, reason: SafeText.min(1).max(500), ...withActor }),
    reply: Provider,
  },
} as const;

export const fairnessCommands = {
  create_subscription: {
    request: z.object({
      subscription_id: Id.optional(),
      provider_id: Id,
      niche_id: Id,
      level_id: Id,
      service_area: ServiceArea,
      daily_cap: Cap.nullable().default(null),
      monthly_cap: Cap.nullable().default(null),
      ...withActor,
    }),
    reply: Subscription,
  },
  update_subscription: {
    request: z.object({
      subscription_id: Id,
      service_area: ServiceArea.optional(),
      daily_cap: Cap.nullable().optional(),
      monthly_cap: Cap.nullable().optional(),
      expected_version: z.number().int().optional(),
      ...withActor,
    }),
    reply: Subscription,
  },
  set_subscription_status: {
    request: z.object({ subscription_id: Id, status: SubscriptionStatus, reason: SafeText.max(500).default('operator'), expected_version: z.number().int().optional(), ...withActor }),
    reply: Subscription,
  },
  get_subscription: { request: z.object({ subscription_id: Id }), reply: Subscription },
} as const;

export const intakeCommands = {
  /** The same payload as `lead.approved`, for callers that prefer request/reply. */
  approve_lead: {
    request: LeadApprovedV1,
    reply: z.object({ lead_id: Id, status: z.enum(['accepted', 'duplicate']), distribution_requested: z.boolean() }),
  },
  /** Manual trigger; a lead already distributed is answered without distributing again. */
  request_distribution: {
    request: z.object({ lead_id: Id, request_id: Id.optional(), ...withActor }),
    reply: z.object({ lead_id: Id, status: z.enum(['queued', 'already_distributed', 'already_queued']), request_id: Id }),
  },
} as const;

/**
 * The relay's one command: publish a STORED event again (the redrive of a dead-lettered
 * event). Only the relay may publish on `fairlead.events.>`, so the operator API asks it;
 * the relay reads the event from the store by stream and version and checks its id, so
 * only what is stored can go out again (never a dead letter's payload, which anyone able
 * to dead-letter could have shaped).
 */
export const relayCommands = {
  republish: {
    request: z.object({
      /** The stored event's id, stream and version, as the dead letter's payload names them (the same types as RelayedEvent's). */
      event_id: SafeText.min(1),
      stream: SafeText.min(1),
      stream_version: z.number().int().nonnegative(),
      /**
       * Names this redrive (e.g. `<dead-letter stream>-<seq>`): the republished message's msgID
       * is derived from it, so a redrive retried after a crash is de-duplicated by JetStream.
       */
      redrive_id: Id,
      ...withActor,
    }),
    reply: z.object({ event_id: SafeText, subject: SafeText, stream: SafeText, stream_seq: z.number().int(), msg_id: SafeText, duplicate: z.boolean() }),
  },
} as const;

export const COMMANDS = { rotation: rotationCommands, billing: billingCommands, fairness: fairnessCommands, intake: intakeCommands, relay: relayCommands } as const;
export type CommandService = keyof typeof COMMANDS;
export type CommandVerb<S extends CommandService> = keyof (typeof COMMANDS)[S] & string;
type Entry<S extends CommandService, V extends CommandVerb<S>> = (typeof COMMANDS)[S][V] extends { request: infer Q; reply: infer R } ? { request: Q; reply: R } : never;
export type CommandRequest<S extends CommandService, V extends CommandVerb<S>> = z.input<Extract<Entry<S, V>['request'], z.ZodType>>;
export type CommandReply<S extends CommandService, V extends CommandVerb<S>> = z.output<Extract<Entry<S, V>['reply'], z.ZodType>>;

export function commandSubject<S extends CommandService>(subjects: Subjects, service: S, verb: CommandVerb<S>): string {
  return subjects.command(service, verb);
}
