/**
 * Operators' subscription commands, each one handleCommand of the subscription decider:
 * load the subscription's stream, decide, append with the version decided on. A concurrent
 * write (billing pausing it for low balance) makes it re-read and re-decide, a bounded
 * number of times — and when the caller named the version it expects, deciding again on
 * the newer version refuses (SUBSCRIPTION_VERSION_CONFLICT): the conflict is theirs.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { parseDistributionEvent, streams, type CommandReply, type fairnessCommands } from '@fairlead/contracts';
import { handleCommand, loadStream } from '@fairlead/event-sourcing';
import type { PostgresEventStore, StoredEvent } from '@fairlead/event-store';
import type { z } from 'zod';
import { LevelNotFoundError, SubscriptionNotFoundError } from '../domain/errors';
import { SUBSCRIPTION_EVENT_TYPES, type Subscription, type SubscriptionCommand, type SubscriptionEvent } from '../domain/subscription';
import { subscriptionDecider } from '../domain/subscription.decider';
import { findLevel } from '../projections/levels/levels.projection';
import { findSubscription } from '../projections/subscriptions/subscriptions.projection';

/** Polls `probe` every 10 ms until it holds or `timeoutMs` passed; resolves with whether it held. */
async function poll(timeoutMs: number, probe: () => Promise<boolean>): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

type Req<V extends keyof typeof fairnessCommands> = z.output<(typeof fairnessCommands)[V]['request']>;
type Reply = CommandReply<'fairness', 'get_subscription'>;

export interface SubscriptionCommandsDeps {
  store: PostgresEventStore;
  pool: pg.Pool;
  /** Longest wait for a level added a moment ago to reach `fairness.levels` before LEVEL_NOT_FOUND (default 3000 ms). */
  levelWaitMs?: number;
  /**
   * Longest wait, after an append, for `fairness.subscriptions` to show it, so that a lead
   * distributed after the reply sees the change (default 5000 ms; 0: reply at once).
   */
  projectionWaitMs?: number;
  newId?: () => string;
  /** Re-reads after a concurrent write before giving up (default 5). */
  maxConflicts?: number;
}

export interface SubscriptionCommands {
  create(request: Req<'create_subscription'>): Promise<Reply>;
  update(request: Req<'update_subscription'>): Promise<Reply>;
  setStatus(request: Req<'set_subscription_status'>): Promise<Reply>;
  get(request: Req<'get_subscription'>): Promise<Reply>;
}

/** A stored subscription event, validated against its contract; other events are not the subscription's. */
const decodeSubscriptionEvent = (e: StoredEvent): SubscriptionEvent | undefined =>
  SUBSCRIPTION_EVENT_TYPES.has(e.type) ? ({ type: e.type, data: parseDistributionEvent(e.type as SubscriptionEvent['type'], e.data) } as SubscriptionEvent) : undefined;

const toReply = (s: Subscription): Reply => ({ ...s });

export function createSubscriptionCommands(deps: SubscriptionCommandsDeps): SubscriptionCommands {
  const newId = deps.newId ?? randomUUID;

  const load = async (id: string) => (await loadStream(deps.store, streams.subscription(id), subscriptionDecider, decodeSubscriptionEvent)).state;

  async function execute(command: SubscriptionCommand): Promise<Subscription> {
    const { state, events } = await handleCommand({ store: deps.store, newId }, streams.subscription(command.subscription_id), subscriptionDecider, command, {
      decode: decodeSubscriptionEvent,
      metadata: { actor: command.actor },
      maxConflicts: deps.maxConflicts ?? 5,
    });
    if (!state) throw new SubscriptionNotFoundError(command.subscription_id);
    if (events.length > 0) await projected(state.subscription_id, state.version);
    return state;
  }

  /** Read-your-writes for operators: the reply comes once the distribution can see the change. */
  async function projected(subscriptionId: string, version: number): Promise<void> {
    await poll(deps.projectionWaitMs ?? 5_000, async () => ((await findSubscription(deps.pool, subscriptionId))?.version ?? -1) >= version);
  }

  async function requireLevelOfNiche(nicheId: string, levelId: string): Promise<void> {
    // A level rotation added a moment ago may not be projected yet: give it a moment.
    const found = await poll(deps.levelWaitMs ?? 3_000, async () => (await findLevel(deps.pool, levelId)) !== undefined);
    const level = found ? await findLevel(deps.pool, levelId) : undefined;
    if (!level || level.niche_id !== nicheId) throw new LevelNotFoundError(nicheId, levelId);
  }

  return {
    create: async (r) => {
      await requireLevelOfNiche(r.niche_id, r.level_id);
      const { subscription_id, ...rest } = r;
      return toReply(await execute({ type: 'create', subscription_id: subscription_id ?? newId(), ...rest }));
    },
    update: async (r) => toReply(await execute({ type: 'change', ...r })),
    setStatus: async (r) => toReply(await execute({ type: 'set_status', ...r })),
    get: async (r) => {
      const state = await load(r.subscription_id);
      if (!state) throw new SubscriptionNotFoundError(r.subscription_id);
      return toReply(state);
    },
  };
}
