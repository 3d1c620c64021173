/**
 * A realistic distribution history, appended fast: leads approved, distributed over two
 * levels (some first picks declined for funds and replaced), providers charged, wallets
 * topped up now and then. Written through the store's own append_batch function, several
 * thousand events per call, so the load phase is not what the benchmark measures.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { SYSTEM_ACTOR } from '@fairlead/contracts';

interface Pending {
  type: string;
  data: unknown;
}

export interface GenerateOptions {
  events: number;
  providers: number;
  niches: number;
  /** Events per append_batch call. */
  batch: number;
  onProgress?: (written: number) => void;
}

export async function generateHistory(pool: pg.Pool, schema: string, o: GenerateOptions): Promise<{ events: number; leads: number; counts: Map<string, number> }> {
  const balances = new Map<string, number>();
  const lastServed = new Map<string, string>();
  const counts = new Map<string, number>();
  let written = 0;
  let leads = 0;
  let streams = new Map<string, Pending[]>();
  let inBatch = 0;
  const push = (stream: string, type: string, data: unknown) => {
    let list = streams.get(stream);
    if (!list) streams.set(stream, (list = []));
    list.push({ type, data });
    counts.set(type, (counts.get(type) ?? 0) + 1);
    inBatch++;
  };
  const flush = async () => {
    if (inBatch === 0) return;
    const names = [...streams.keys()].sort();
    const ids: string[] = [];
    const types: string[] = [];
    const data: string[] = [];
    const metadata: string[] = [];
    const app: number[] = [];
    names.forEach((name, i) => {
      for (const e of streams.get(name)!) {
        ids.push(randomUUID());
        types.push(e.type);
        data.push(JSON.stringify(e.data));
        metadata.push('{}');
        app.push(i + 1);
      }
    });
    await pool.query({
      name: 'bench.append_batch',
      text: `select r_outcomes from ${schema}.append_batch($1, $2, $3, $4, $5, $6, $7, $8, false)`,
      values: [names, names.map(() => null), names.map((n) => streams.get(n)!.length), app, ids, types, data, metadata],
    });
    written += inBatch;
    o.onProgress?.(written);
    streams = new Map();
    inBatch = 0;
  };
  const provider = (n: number) => `p${(n % o.providers).toString().padStart(5, '0')}`;
  const t0 = Date.UTC(2026, 0, 1);
  const topUp = (p: string, amount: number) => {
    const balance = (balances.get(p) ?? 0) + amount;
    balances.set(p, balance);
    push(`wallet-${p}`, 'WalletToppedUp', { provider_id: p, amount_cents: amount, balance_after_cents: balance, reference: 'bench', actor: SYSTEM_ACTOR });
  };
  for (let p = 0; p < o.providers; p++) topUp(provider(p), 50_000);

  while (written + inBatch < o.events) {
    const n = leads++;
    const lead = `L${n}`;
    const niche = `n${n % o.niches}`;
    const when = new Date(t0 + n * 1_000).toISOString();
    const levels = [1, 2].map((k) => ({ level_id: `${niche}-l${k}`, name: `Level ${k}`, order_position: k, max_recipients: 1, price_per_lead_cents: 1_000 * k }));
    const request = randomUUID();
    const s = `lead-${lead}`;
    push(s, 'LeadApproved', {
      received_via: 'nats',
      lead: { schema_version: 1, lead_id: lead, niche_id: niche, approved_at: when, consumer: { name: 'Ada', email: 'ada@example.com' }, location: { postal_code: '94110', state: 'CA' }, details: {} },
    });
    push(s, 'DistributionRequested', { lead_id: lead, niche_id: niche, request_id: request, requested_by: SYSTEM_ACTOR, requested_at: when });
    push(s, 'DistributionStarted', { lead_id: lead, niche_id: niche, request_id: request, attempt: 1, start_order_position: 1, traversal: levels, started_at: when });
    const assignments: { assignment_id: string; provider_id: string; subscription_id: string; level_id: string; price_cents: number }[] = [];
    const skipped: { provider_id: string; subscription_id: string; level_id: string; reason: 'insufficient_balance' }[] = [];
    for (const level of levels) {
      const candidates = [0, 1, 2].map((k) => provider(n * 3 + k + level.order_position * 7)).map((p) => ({ provider_id: p, subscription_id: `${p}-${level.level_id}`, last_received_at: lastServed.get(p) ?? null }));
      candidates.sort((a, b) => (a.last_received_at ?? '').localeCompare(b.last_received_at ?? '') || a.provider_id.localeCompare(b.provider_id));
      let pick = 0;
      // One lead in ten: the first pick cannot pay and the next candidate takes the slot.
      if (n % 10 === 0) {
        const c = candidates[0]!;
        push(s, 'ProvidersSelected', { lead_id: lead, level_id: level.level_id, order_position: level.order_position, round: 0, candidates, excluded: [], picks: [{ ...pickOf(c), price_cents: level.price_per_lead_cents }] });
        push(`wallet-${c.provider_id}`, 'WalletChargeDeclined', { provider_id: c.provider_id, lead_id: lead, subscription_id: c.subscription_id, level_id: level.level_id, amount_cents: level.price_per_lead_cents, balance_cents: balances.get(c.provider_id) ?? 0, reason: 'insufficient_balance' });
        push(s, 'ProviderSkipped', { lead_id: lead, provider_id: c.provider_id, subscription_id: c.subscription_id, level_id: level.level_id, reason: 'insufficient_balance', detail: 'bench' });
        skipped.push({ ...pickOf(c), level_id: level.level_id, reason: 'insufficient_balance' });
        pick = 1;
      }
      const chosen = candidates[pick]!;
      push(s, 'ProvidersSelected', { lead_id: lead, level_id: level.level_id, order_position: level.order_position, round: pick, candidates: candidates.slice(pick), excluded: [], picks: [{ ...pickOf(chosen), price_cents: level.price_per_lead_cents }] });
      const p = chosen.provider_id;
      if ((balances.get(p) ?? 0) < level.price_per_lead_cents) topUp(p, 50_000);
      const balance = balances.get(p)! - level.price_per_lead_cents;
      balances.set(p, balance);
      lastServed.set(p, when);
      const assignment = randomUUID();
      push(`wallet-${p}`, 'WalletCharged', { provider_id: p, lead_id: lead, subscription_id: chosen.subscription_id, level_id: level.level_id, amount_cents: level.price_per_lead_cents, balance_after_cents: balance });
      push(s, 'LeadAssigned', {
        assignment_id: assignment,
        lead_id: lead,
        niche_id: niche,
        provider_id: p,
        subscription_id: chosen.subscription_id,
        level_id: level.level_id,
        level_name: level.name,
        order_position: level.order_position,
        price_cents: level.price_per_lead_cents,
        balance_after_cents: balance,
        assigned_at: when,
      });
      assignments.push({ assignment_id: assignment, ...pickOf(chosen), level_id: level.level_id, price_cents: level.price_per_lead_cents });
    }
    push(s, 'DistributionCompleted', {
      lead_id: lead,
      niche_id: niche,
      request_id: request,
      outcome: skipped.length > 0 ? 'partial' : 'success',
      start_order_position: 1,
      traversal: levels.map((l) => l.level_id),
      assignments,
      skipped,
      duration_ms: 12,
      attempt: 1,
      completed_at: when,
    });
    // Now and then a refund, as operators do.
    if (n % 97 === 0) {
      const a = assignments[0]!;
      const balance = balances.get(a.provider_id)! + a.price_cents;
      balances.set(a.provider_id, balance);
      push(`wallet-${a.provider_id}`, 'WalletRefunded', { provider_id: a.provider_id, lead_id: lead, amount_cents: a.price_cents, balance_after_cents: balance, reason: 'returned', actor: SYSTEM_ACTOR });
    }
    if (inBatch >= o.batch) await flush();
  }
  await flush();
  return { events: written, leads, counts };
}

const pickOf = (c: { provider_id: string; subscription_id: string }) => ({ provider_id: c.provider_id, subscription_id: c.subscription_id });
