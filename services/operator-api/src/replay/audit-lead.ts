/**
 * A lead's whole story from the event store, in log order: approval, the rotation claim
 * (StartLevelClaimed on the niche stream), each level round with its candidates in LRU
 * order and the LRU check, assignments and skips, the wallets' charges and declines for
 * the lead, and the emails the notification service queued for its events.
 *
 * The LRU check of a round is re-derived from the log, not taken from the round's own
 * record: every earlier pick, assignment, decline and withdrawal of the round's level
 * (ServedHistory) gives the order the candidates must be in and the picks they must start
 * with. The record must also agree with itself (checkLru on its last_received_at).
 */
import type pg from 'pg';
import { isDistributionEventType, parseDistributionEvent } from '@fairlead/contracts';
import type { EventStore, StoredEvent } from '@fairlead/event-store';
import { verdictsOfLevels } from './level-history';
import { checkLru, type LruCandidate, type LruVerdict } from './lru-check';
import type { ServedMark } from './served-history';

export interface StoryEntry {
  global_position: string;
  at: string;
  stream: string;
  type: string;
  data: unknown;
}

export interface RoundStory extends LruVerdict {
  level_id: string;
  order_position: number;
  round: number;
  candidates: (LruCandidate & { rank: number })[];
  /** The candidates in the order the log's history gives, with when each was last served by it. */
  derived_order: { provider_id: string; subscription_id: string; last_served: ServedMark | null }[];
  excluded: unknown[];
  picks: { provider_id: string; subscription_id: string; price_cents: number }[];
  /** What became of each pick: assigned, skipped with the reason, or withdrawn before billing saw it. */
  outcomes: { provider_id: string; outcome: 'assigned' | 'skipped' | 'withdrawn' | 'pending'; reason?: string }[];
}

export interface LeadStory {
  lead_id: string;
  niche_id: string | null;
  found: boolean;
  timeline: StoryEntry[];
  rounds: RoundStory[];
  charges: StoryEntry[];
  emails: { kind: string; recipient: string; subject: string; status: string; source_event_id: string; created_at: string }[];
  /** 'ok' when every round's check is ok. */
  lru_check: 'ok' | 'violated' | 'no_rounds';
}

const entry = (e: StoredEvent): StoryEntry => ({ global_position: e.globalPosition.toString(), at: e.createdAt.toISOString(), stream: e.stream, type: e.type, data: e.data });

async function readWhole(store: EventStore, stream: string): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for (;;) {
    const page = await store.readStream(stream, out.length, 1_000);
    out.push(...page);
    if (page.length < 1_000) return out;
  }
}

export async function leadStory(store: EventStore, pool: pg.Pool, leadId: string, storeSchema = 'eventstore'): Promise<LeadStory> {
  const lead = await readWhole(store, `lead-${leadId}`);
  const selections = lead.filter((e) => e.type === 'ProvidersSelected');
  const levelIds = [...new Set(selections.map((e) => (e.data as { level_id?: unknown }).level_id).filter((id): id is string => typeof id === 'string'))];
  const lastSelection = selections.at(-1)?.globalPosition ?? 0n;
  const verdicts = await verdictsOfLevels(pool, storeSchema, levelIds, lastSelection);
  let nicheId: string | null = null;
  const providers = new Set<string>();
  const rounds: RoundStory[] = [];
  for (const e of lead) {
    if (!isDistributionEventType(e.type)) continue;
    if (e.type === 'LeadApproved') nicheId = parseDistributionEvent('LeadApproved', e.data).lead.niche_id;
    if (e.type === 'ProvidersSelected') {
      const d = parseDistributionEvent('ProvidersSelected', e.data);
      d.candidates.forEach((c) => providers.add(c.provider_id));
      const recorded = checkLru(d);
      const history = verdicts.get(e.globalPosition.toString());
      const violations = [...recorded.violations, ...(history ? history.violations : ['the round was not found in the log of its level'])];
      rounds.push({
        level_id: d.level_id,
        order_position: d.order_position,
        round: d.round,
        candidates: d.candidates.map((c, i) => ({ ...c, rank: i + 1 })),
        derived_order: history?.derived ?? [],
        excluded: d.excluded,
        picks: d.picks,
        outcomes: [],
        lru_check: violations.length === 0 ? 'ok' : 'violated',
        violations,
      });
    }
    if (e.type === 'PicksWithdrawn') {
      const d = parseDistributionEvent('PicksWithdrawn', e.data);
      for (const p of d.picks) {
        // The latest round of that level that picked this provider and has no outcome for it yet.
        const round = [...rounds].reverse().find((r) => r.level_id === p.level_id && r.picks.some((x) => x.provider_id === p.provider_id) && !r.outcomes.some((o) => o.provider_id === p.provider_id));
        round?.outcomes.push({ provider_id: p.provider_id, outcome: 'withdrawn', reason: d.reason });
      }
    }
    if (e.type === 'LeadAssigned' || e.type === 'ProviderSkipped') {
      const d = e.type === 'LeadAssigned' ? parseDistributionEvent('LeadAssigned', e.data) : parseDistributionEvent('ProviderSkipped', e.data);
      providers.add(d.provider_id);
      // The latest round of that level that picked this provider.
      const round = [...rounds].reverse().find((r) => r.level_id === d.level_id && r.picks.some((p) => p.provider_id === d.provider_id));
      round?.outcomes.push(e.type === 'LeadAssigned' ? { provider_id: d.provider_id, outcome: 'assigned' } : { provider_id: d.provider_id, outcome: 'skipped', reason: 'reason' in d ? d.reason : '' });
    }
  }
  for (const r of rounds) for (const p of r.picks) if (!r.outcomes.some((o) => o.provider_id === p.provider_id)) r.outcomes.push({ provider_id: p.provider_id, outcome: 'pending' });

  const claims = nicheId ? (await readWhole(store, `niche-${nicheId}`)).filter((e) => e.type === 'StartLevelClaimed' && (e.data as { lead_id?: unknown }).lead_id === leadId) : [];
  const charges: StoredEvent[] = [];
  for (const provider of [...providers].sort()) {
    for (const e of await readWhole(store, `wallet-${provider}`)) if ((e.data as { lead_id?: unknown }).lead_id === leadId) charges.push(e);
  }
  const all = [...lead, ...claims, ...charges].sort((a, b) => (a.transactionId === b.transactionId ? Number(a.globalPosition - b.globalPosition) : a.transactionId < b.transactionId ? -1 : 1));
  const emails = await emailsFor(pool, all.map((e) => e.id));
  return {
    lead_id: leadId,
    niche_id: nicheId,
    found: lead.length > 0,
    timeline: all.map(entry),
    rounds,
    charges: charges.map(entry),
    emails,
    lru_check: rounds.length === 0 ? 'no_rounds' : rounds.every((r) => r.lru_check === 'ok') ? 'ok' : 'violated',
  };
}

async function emailsFor(pool: pg.Pool, eventIds: string[]): Promise<LeadStory['emails']> {
  const { rows: exists } = await pool.query<{ ok: boolean }>(`select to_regclass('notification.outbox') is not null as ok`);
  if (!exists[0]?.ok || eventIds.length === 0) return [];
  const { rows } = await pool.query<LeadStory['emails'][number]>(
    `select kind, recipient, subject, status, source_event_id, to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as created_at
       from notification.outbox where source_event_id = any($1::text[]) order by seq`,
    [eventIds],
  );
  return rows;
}
