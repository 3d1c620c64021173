/**
 * The benchmark's market, created through the services' own NATS commands as an
 * operator would: niches with three levels (rotation), providers with funded wallets
 * (billing), one subscription per provider (fairness; it answers once it can see it).
 */
import type { NatsConnection } from '@nats-io/nats-core';
import type { ZodType } from 'zod';
import { COMMANDS, type CommandReply, type CommandRequest, type CommandService, type CommandVerb, type Subjects } from '@fairlead/contracts';
import { request } from '@fairlead/messaging';

export interface LevelSpec {
  name: string;
  max_recipients: number;
  price_per_lead_cents: number;
}

/** As the demo's niche: Gold (2 recipients), Silver (1), Bronze (1) — four assignments per lead. */
export const LEVELS: readonly LevelSpec[] = [
  { name: 'Gold', max_recipients: 2, price_per_lead_cents: 4_900 },
  { name: 'Silver', max_recipients: 1, price_per_lead_cents: 2_900 },
  { name: 'Bronze', max_recipients: 1, price_per_lead_cents: 1_500 },
];

export interface SeededNiche {
  nicheId: string;
  /** Provider ids per level (index 0 = order position 1). */
  providers: string[][];
}

export interface Commander {
  <S extends CommandService, V extends CommandVerb<S>>(service: S, verb: V, body: CommandRequest<S, V>): Promise<CommandReply<S, V>>;
}

export function commander(nc: NatsConnection, subjects: Subjects): Commander {
  return async (service, verb, body) => {
    const entry = (COMMANDS[service] as Record<string, { reply: ZodType }>)[verb]!;
    return (await request(nc, subjects.command(service, verb), body, { responseSchema: entry.reply, timeoutMs: 30_000 })) as never;
  };
}

/** Runs `work` over `items` with at most `limit` at once. */
export async function inParallel<T>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await work(items[i]!, i);
      }
    }),
  );
}

export interface SeedOptions {
  niches: number;
  providersPerLevel: number;
  balanceCents: number;
  /** Commands in flight at once. */
  parallel?: number;
}

export async function seedMarket(command: Commander, options: SeedOptions): Promise<SeededNiche[]> {
  const niches: SeededNiche[] = [];
  for (let n = 1; n <= options.niches; n++) {
    const nicheId = `bench-niche-${n}`;
    await command('rotation', 'create_niche', { niche_id: nicheId, name: `Bench niche ${n}`, auto_distribute: true });
    for (const [i, level] of LEVELS.entries()) {
      await command('rotation', 'add_level', { niche_id: nicheId, level_id: `${nicheId}-l${i + 1}`, order_position: i + 1, active: true, ...level });
    }
    niches.push({
      nicheId,
      providers: LEVELS.map((_, l) => Array.from({ length: options.providersPerLevel }, (_, p) => `bench-p-n${n}-l${l + 1}-${String(p + 1).padStart(3, '0')}`)),
    });
  }
  const jobs = niches.flatMap((niche) => niche.providers.flatMap((ids, l) => ids.map((providerId) => ({ niche, level: l, providerId }))));
  await inParallel(jobs, options.parallel ?? 16, async ({ niche, level, providerId }) => {
    await command('billing', 'register_provider', { provider_id: providerId, name: `Provider ${providerId}`, email: `${providerId}@providers.example` });
    await command('billing', 'top_up', { provider_id: providerId, amount_cents: options.balanceCents, reference: 'bench seed' });
    await command('fairness', 'create_subscription', {
      provider_id: providerId,
      niche_id: niche.nicheId,
      level_id: `${niche.nicheId}-l${level + 1}`,
      service_area: { states: ['CA'], postal_codes: [] },
    });
  });
  return niches;
}
