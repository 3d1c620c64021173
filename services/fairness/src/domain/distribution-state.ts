/**
 * The state of one lead's distribution, evolved from its stream (`lead-<id>`). Every
 * decision the handler takes is recorded there first, so this state is all it needs to
 * resume after a crash: what was claimed, picked, charged, declined and completed.
 */
import type { DistributionEventData, LeadApprovedV1, LevelSnapshot, SkipReason } from '@fairlead/contracts';

interface LeadEventMap {
  LeadApproved: DistributionEventData<'LeadApproved'>;
  LeadRejected: DistributionEventData<'LeadRejected'>;
  DistributionRequested: DistributionEventData<'DistributionRequested'>;
  DistributionStarted: DistributionEventData<'DistributionStarted'>;
  ProvidersSelected: DistributionEventData<'ProvidersSelected'>;
  PicksWithdrawn: DistributionEventData<'PicksWithdrawn'>;
  LeadAssigned: DistributionEventData<'LeadAssigned'>;
  ProviderSkipped: DistributionEventData<'ProviderSkipped'>;
  DistributionCompleted: DistributionEventData<'DistributionCompleted'>;
  DistributionFailed: DistributionEventData<'DistributionFailed'>;
}
/** An event of a lead stream as the distribution reads it. */
export type LeadEvent = { [T in keyof LeadEventMap]: { type: T; data: LeadEventMap[T] } }[keyof LeadEventMap];
export type LeadEventType = LeadEvent['type'];

const evolveLeadTypes = new Set<string>([
  'LeadApproved',
  'LeadRejected',
  'DistributionRequested',
  'DistributionStarted',
  'ProvidersSelected',
  'PicksWithdrawn',
  'LeadAssigned',
  'ProviderSkipped',
  'DistributionCompleted',
  'DistributionFailed',
]);
export const isLeadEventType = (type: string): type is LeadEventType => evolveLeadTypes.has(type);

export interface LevelProgress {
  level: LevelSnapshot;
  /** ProvidersSelected rounds recorded for this level. */
  rounds: number;
  assigned: number;
  /** Picks recorded but neither charged nor declined yet. */
  pending: number;
  /** The last round picked every eligible candidate: nobody is left to fill a slot. */
  exhausted: boolean;
}

export type PickStatus = 'pending' | 'assigned' | 'declined';

export interface Pick {
  providerId: string;
  subscriptionId: string;
  levelId: string;
  priceCents: number;
  status: PickStatus;
  /** Why billing declined it (status 'declined'). */
  declineReason?: SkipReason;
}

export interface Skip {
  provider_id: string;
  subscription_id: string;
  level_id: string;
  reason: SkipReason;
}

export interface DistributionState {
  /** Version of the lead stream (the last event's); -1 when the stream does not exist. */
  version: number;
  lead: LeadApprovedV1 | null;
  lastRequest: LeadEventMap['DistributionRequested'] | null;
  started: LeadEventMap['DistributionStarted'] | null;
  /** The traversal's levels, in traversal order. */
  levels: LevelProgress[];
  /**
   * The picks by provider and level (pickKey), in the order picked. A provider is picked at
   * most once per level, and in a second level only after billing declined it in the first
   * (a provider who cannot afford Gold may afford Bronze); it is assigned at most once.
   */
  picks: Map<string, Pick>;
  assignments: LeadEventMap['LeadAssigned'][];
  /** Why providers were passed over, by subscription id (the latest reason recorded). */
  skipped: Map<string, Skip>;
  /** Some round of some level had an eligible candidate. */
  sawCandidates: boolean;
  failures: number;
  completed: LeadEventMap['DistributionCompleted'] | null;
}

export const initialDistributionState = (): DistributionState => ({
  version: -1,
  lead: null,
  lastRequest: null,
  started: null,
  levels: [],
  picks: new Map(),
  assignments: [],
  skipped: new Map(),
  sawCandidates: false,
  failures: 0,
  completed: null,
});

/** The key of a pick in DistributionState.picks: one per provider and level. */
export const pickKey = (providerId: string, levelId: string): string => `${providerId}\u0000${levelId}`;

const updateLevel = (levels: LevelProgress[], levelId: string, change: (l: LevelProgress) => LevelProgress): LevelProgress[] =>
  levels.map((l) => (l.level.level_id === levelId ? change(l) : l));

/** Applies one event of the lead stream; `version` is that event's stream version. */
export function evolveDistribution(state: DistributionState, event: LeadEvent, version: number): DistributionState {
  const next: DistributionState = { ...state, version };
  switch (event.type) {
    case 'LeadApproved':
      return { ...next, lead: event.data.lead };
    case 'LeadRejected':
      return next;
    case 'DistributionRequested':
      return { ...next, lastRequest: event.data };
    case 'DistributionStarted':
      if (state.started) return next;
      return {
        ...next,
        started: event.data,
        levels: event.data.traversal.map((level) => ({ level, rounds: 0, assigned: 0, pending: 0, exhausted: false })),
      };
    case 'ProvidersSelected': {
      const d = event.data;
      const picks = new Map(state.picks);
      const skipped = new Map(state.skipped);
      let added = 0;
      for (const p of d.picks) {
        const key = pickKey(p.provider_id, d.level_id);
        if (picks.has(key)) continue;
        picks.set(key, { providerId: p.provider_id, subscriptionId: p.subscription_id, levelId: d.level_id, priceCents: p.price_cents, status: 'pending' });
        added++;
      }
      // The latest round's reason stands: it is what kept the provider out in the end.
      for (const x of d.excluded) skipped.set(x.subscription_id, { provider_id: x.provider_id, subscription_id: x.subscription_id, level_id: d.level_id, reason: x.reason });
      // Nobody left to pick — unless a provider kept out only by its pick waiting for billing
      // in another level: declined there, it is a candidate for a later round here.
      const waitingElsewhere = new Set([...state.picks.values()].filter((p) => p.status === 'pending' && p.levelId !== d.level_id).map((p) => p.providerId));
      const exhausted = d.candidates.length <= d.picks.length && !d.excluded.some((x) => x.reason === 'already_assigned' && waitingElsewhere.has(x.provider_id));
      return {
        ...next,
        picks,
        skipped,
        sawCandidates: state.sawCandidates || d.candidates.length > 0,
        levels: updateLevel(state.levels, d.level_id, (l) => ({
          ...l,
          rounds: l.rounds + 1,
          pending: l.pending + added,
          exhausted,
        })),
      };
    }
    case 'PicksWithdrawn': {
      // Only picks still waiting for billing can be taken back; the level is open again.
      const picks = new Map(state.picks);
      let levels = state.levels;
      for (const p of event.data.picks) {
        const key = pickKey(p.provider_id, p.level_id);
        if (picks.get(key)?.status !== 'pending') continue;
        picks.delete(key);
        levels = updateLevel(levels, p.level_id, (l) => ({ ...l, pending: l.pending - 1, exhausted: false }));
      }
      return { ...next, picks, levels };
    }
    case 'LeadAssigned':
    case 'ProviderSkipped': {
      const d = event.data;
      const key = pickKey(d.provider_id, d.level_id);
      const pick = state.picks.get(key);
      const assigned = event.type === 'LeadAssigned';
      const wasPending = pick?.status === 'pending';
      const picks = new Map(state.picks);
      if (pick) picks.set(key, assigned ? { ...pick, status: 'assigned' } : { ...pick, status: 'declined', declineReason: event.data.reason });
      const skipped = new Map(state.skipped);
      if (!assigned) skipped.set(d.subscription_id, { provider_id: d.provider_id, subscription_id: d.subscription_id, level_id: d.level_id, reason: event.data.reason });
      return {
        ...next,
        picks,
        skipped,
        assignments: assigned ? [...state.assignments, event.data] : state.assignments,
        levels: updateLevel(state.levels, d.level_id, (l) => ({
          ...l,
          pending: wasPending ? l.pending - 1 : l.pending,
          assigned: assigned ? l.assigned + 1 : l.assigned,
        })),
      };
    }
    case 'DistributionCompleted':
      return { ...next, completed: state.completed ?? event.data };
    case 'DistributionFailed':
      return { ...next, failures: state.failures + 1 };
  }
}
