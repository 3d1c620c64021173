/**
 * Stand-ins for the rotation and billing services in fairness's integration tests, until
 * those services exist: real NATS responders that implement the contracts honestly
 * (rotation: atomic pointer with wrap-around, same answer for the same lead; billing:
 * idempotent per (lead, provider) — a decline binds its level only — never below zero). The real services replace them in
 * the end-to-end suite.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import { billingCommands, rotationCommands, type CommandReply, type LevelSnapshot, type Subjects } from '@fairlead/contracts';
import { serveRequests, type RequestServer } from '@fairlead/messaging';

export class TestRotation {
  private readonly niches = new Map<string, { levels: LevelSnapshot[]; next: number }>();
  private readonly claims = new Map<string, CommandReply<'rotation', 'claim_start_level'>>();
  /** Leads in the order their start level was claimed. */
  readonly claimOrder: string[] = [];
  private server: RequestServer | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly subjects: Subjects,
  ) {}

  setLevels(nicheId: string, levels: LevelSnapshot[]): void {
    this.niches.set(nicheId, { levels: [...levels].sort((a, b) => a.order_position - b.order_position), next: this.niches.get(nicheId)?.next ?? 1 });
  }

  /** Serve claim_start_levels too (false: only single claims, as an older rotation). */
  serveBatch = true;

  start(): this {
    const single = serveRequests(this.nc, this.subjects.command('rotation', 'claim_start_level'), {
      requestSchema: rotationCommands.claim_start_level.request,
      handler: ({ niche_id, lead_id }) => this.claim(niche_id, lead_id),
    });
    const batch = this.serveBatch
      ? serveRequests(this.nc, this.subjects.command('rotation', 'claim_start_levels'), {
          requestSchema: rotationCommands.claim_start_levels.request,
          handler: ({ niche_id, lead_ids }) => {
            if (!this.niches.has(niche_id)) throw Object.assign(new Error(`unknown niche ${niche_id}`), { code: 'NICHE_NOT_FOUND' });
            return {
              niche_id,
              claims: lead_ids.map((lead_id) => {
                try {
                  const { start_order_position, traversal } = this.claim(niche_id, lead_id);
                  return { lead_id, start_order_position, traversal };
                } catch (error) {
                  const e = error as { code: string; message: string };
                  return { lead_id, error: { code: e.code, message: e.message } };
                }
              }),
            };
          },
        })
      : undefined;
    this.server = { stop: async () => void (await Promise.all([single.stop(), batch?.stop()])) };
    return this;
  }

  private claim(niche_id: string, lead_id: string): CommandReply<'rotation', 'claim_start_level'> {
    const known = this.claims.get(lead_id);
    if (known) return known;
    const niche = this.niches.get(niche_id);
    if (!niche) throw Object.assign(new Error(`unknown niche ${niche_id}`), { code: 'NICHE_NOT_FOUND' });
    const levels = niche.levels;
    if (levels.length === 0) throw Object.assign(new Error(`niche ${niche_id} has no active level`), { code: 'NO_ACTIVE_LEVELS' });
    const startIndex = Math.max(0, levels.findIndex((l) => l.order_position >= niche.next));
    const traversal = [...levels.slice(startIndex), ...levels.slice(0, startIndex)];
    const start = traversal[0]?.order_position ?? 1;
    const after = levels[(startIndex + 1) % Math.max(1, levels.length)];
    niche.next = after?.order_position ?? 1;
    const reply = { niche_id, lead_id, start_order_position: start, traversal };
    this.claims.set(lead_id, reply);
    this.claimOrder.push(lead_id);
    return reply;
  }

  async stop(): Promise<void> {
    await this.server?.stop();
    this.server = undefined;
  }
}

type ChargeReply = CommandReply<'billing', 'charge'>;

export class TestBilling {
  readonly balances = new Map<string, number>();
  private readonly decisions = new Map<string, { level_id: string; reply: ChargeReply }>();
  /** Every charge asked for, single or in a batch (repeats included). */
  readonly requests: { provider_id: string; lead_id: string; level_id: string; amount_cents: number }[] = [];
  /** The size of every charge_batch request received. */
  readonly batches: number[] = [];
  private server: RequestServer | undefined;
  /** Answer each charge this much later (to stretch a run for crash tests). */
  delayMs = 0;

  constructor(
    private readonly nc: NatsConnection,
    private readonly subjects: Subjects,
  ) {}

  fund(providerId: string, cents: number): void {
    this.balances.set(providerId, (this.balances.get(providerId) ?? 0) + cents);
  }

  /** Charges that took money, by (lead, provider). */
  charged(): ChargeReply[] {
    return [...this.decisions.values()].map((d) => d.reply).filter((d) => d.charged);
  }

  /** Serve charge_batch too (false: only single charges, as an older billing). */
  serveBatch = true;

  start(): this {
    const single = serveRequests(this.nc, this.subjects.command('billing', 'charge'), {
      requestSchema: billingCommands.charge.request,
      handler: async ({ provider_id, lead_id, level_id, amount_cents }) => {
        if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
        return this.charge(provider_id, lead_id, level_id, amount_cents);
      },
    });
    const batch = this.serveBatch
      ? serveRequests(this.nc, this.subjects.command('billing', 'charge_batch'), {
          requestSchema: billingCommands.charge_batch.request,
          handler: async ({ charges, stop_at_first_decline }) => {
            if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
            this.batches.push(charges.length);
            let declinedLead: string | undefined;
            return {
              results: charges.map(({ provider_id, lead_id, level_id, amount_cents }) => {
                if (declinedLead !== undefined && lead_id !== declinedLead) return { provider_id, lead_id, not_attempted: true as const };
                try {
                  const reply = this.charge(provider_id, lead_id, level_id, amount_cents);
                  if (!reply.charged && stop_at_first_decline) declinedLead ??= lead_id;
                  return reply;
                } catch (error) {
                  const e = error as { code: string; message: string };
                  return { provider_id, lead_id, error: { code: e.code, message: e.message } };
                }
              }),
            };
          },
        })
      : undefined;
    this.server = { stop: async () => void (await Promise.all([single.stop(), batch?.stop()])) };
    return this;
  }

  private charge(provider_id: string, lead_id: string, level_id: string, amount_cents: number): ChargeReply {
    this.requests.push({ provider_id, lead_id, level_id, amount_cents });
    const key = `${lead_id}:${provider_id}`;
    const known = this.decisions.get(key);
    // A charge taken answers every repeat; a decline answers repeats at its own level only.
    if (known && (known.reply.charged || known.level_id === level_id)) return known.reply;
    // As billing answers a provider it does not know (PROVIDER_NOT_FOUND: the catalogue's not_found, refused for good).
    if (!this.balances.has(provider_id)) throw Object.assign(new Error(`provider ${provider_id} is not registered`), { code: 'PROVIDER_NOT_FOUND' });
    const balance = this.balances.get(provider_id)!;
    const reply: ChargeReply =
      balance >= amount_cents
        ? { charged: true, provider_id, lead_id, amount_cents, balance_after_cents: balance - amount_cents }
        : { charged: false, provider_id, lead_id, amount_cents, balance_cents: balance, reason: 'insufficient_balance' };
    if (reply.charged) this.balances.set(provider_id, reply.balance_after_cents);
    this.decisions.set(key, { level_id, reply });
    return reply;
  }

  async stop(): Promise<void> {
    await this.server?.stop();
    this.server = undefined;
  }
}
