/**
 * The served view one pass of a batch decides on (see docs/distribution.md, "Fairness"):
 * the niche's subscriptions with every pick and assignment already in the log counted as
 * served, plus the picks the pass makes, each at its own strictly increasing served time.
 */
import type pg from 'pg';
import { pickKey, type DistributionState } from '../domain/distribution-state';
import { servedAt, type SubscriptionView } from '../domain/eligibility';
import { pendingPicksOf } from '../projections/subscription-stats/pending-picks';

/** A lead of the batch as far as served times go. */
export interface ServedTimes {
  writer: { leadId: string; state: DistributionState };
  /** Each pick's served time (by pickKey), given when it was picked: its assignment's assigned_at. */
  servedAt: Map<string, Date>;
}

/** The served times of picks a lead made before (an earlier attempt, another process), to charge them as decided. */
export async function resumeServedTimes(client: pg.PoolClient, work: readonly ServedTimes[]): Promise<void> {
  const waiting = work.filter((w) => [...w.writer.state.picks.values()].some((p) => p.status === 'pending' && !w.servedAt.has(pickKey(p.providerId, p.levelId))));
  if (waiting.length === 0) return;
  const rows = await pendingPicksOf(
    client,
    waiting.map((w) => w.writer.leadId),
  );
  for (const w of waiting) for (const r of rows.get(w.writer.leadId) ?? []) w.servedAt.set(pickKey(r.provider_id, r.level_id), r.served_at);
}

/**
 * The niche's subscriptions as one pass reads them (with every pick waiting for billing
 * counted as served), plus the picks made since: the next lead ranks and caps against them
 * as it would after their charges. Served times are strictly increasing, one per pick (a
 * clock that has not moved still orders them), so two picks never tie.
 */
export class ServedView {
  private readonly bySubscription = new Map<string, SubscriptionView>();
  private last: number;

  constructor(readonly byLevel: Map<string, SubscriptionView[]>) {
    this.last = 0;
    for (const views of byLevel.values()) {
      for (const v of views) {
        this.bySubscription.set(v.subscriptionId, v);
        this.last = Math.max(this.last, v.stats.lastReceivedAt?.getTime() ?? 0);
      }
    }
  }

  /** The served time of the next pick: now, or 1 ms after the latest served time known. */
  tick(now: Date): Date {
    this.last = Math.max(now.getTime(), this.last + 1);
    return new Date(this.last);
  }

  served(subscriptionId: string, at: Date): void {
    const view = this.bySubscription.get(subscriptionId);
    if (view) view.stats = servedAt(view.stats, at);
  }
}
