import { randomUUID } from 'node:crypto';
import type { DistributionSystem } from './system';

export interface LevelSpec {
  name?: string;
  max_recipients: number;
  price_per_lead_cents: number;
}

export interface SeededNiche {
  niche_id: string;
  /** Level ids by order position (index 0 = position 1). */
  levels: string[];
}

const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

/** A niche with levels at positions 1..n, created through the rotation service's commands. */
export async function seedNiche(system: DistributionSystem, label: string, levels: LevelSpec[], autoDistribute = true): Promise<SeededNiche> {
  const niche = await system.command('rotation', 'create_niche', { niche_id: unique(label), name: `Niche ${label}`, auto_distribute: autoDistribute });
  const ids: string[] = [];
  for (const [i, spec] of levels.entries()) {
    const levelId = `${niche.niche_id}-l${i + 1}`;
    await system.command('rotation', 'add_level', {
      niche_id: niche.niche_id,
      level_id: levelId,
      name: spec.name ?? `Level ${i + 1}`,
      order_position: i + 1,
      max_recipients: spec.max_recipients,
      price_per_lead_cents: spec.price_per_lead_cents,
      active: true,
    });
    ids.push(levelId);
  }
  return { niche_id: niche.niche_id, levels: ids };
}

/** A provider with a funded wallet, through the billing service's commands. */
export async function seedProvider(system: DistributionSystem, id: string, balanceCents: number): Promise<string> {
  await system.command('billing', 'register_provider', { provider_id: id, name: `Provider ${id}`, email: `${id}@providers.example` });
  if (balanceCents > 0) await system.command('billing', 'top_up', { provider_id: id, amount_cents: balanceCents, reference: 'seed' });
  return id;
}

/** A subscription through the fairness service's commands; waits until fairness can see it. */
export async function seedSubscription(
  system: DistributionSystem,
  providerId: string,
  niche: SeededNiche,
  position: number,
  area: { states?: string[]; postal_codes?: string[] } = { states: ['CA'] },
): Promise<string> {
  const sub = await system.command('fairness', 'create_subscription', {
    provider_id: providerId,
    niche_id: niche.niche_id,
    level_id: niche.levels[position - 1]!,
    service_area: { states: area.states ?? [], postal_codes: area.postal_codes ?? [] },
  });
  return sub.subscription_id;
}

export async function balanceOf(system: DistributionSystem, providerId: string): Promise<number> {
  return (await system.command('billing', 'get_provider', { provider_id: providerId })).balance_cents;
}

export { unique };
