/**
 * The load of the email-path benchmark (email-path.perf.int.test.ts), in a process of its
 * own so that its CPU is not the notification's: LEADS leads, each a LeadApproved and four
 * LeadAssigned (one per provider of WORLDS, as fairness assigns them), appended to the event
 * store at RATE leads per second (0: all at once), and between them (PERF_NICHE_EVENT=1) the
 * StartLevelClaimed rotation appends to the lead's niche stream: a commit of the directory
 * projector's categories per lead, as under `npm start`. Waits for `go` on stdin after `ready`.
 */
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import pg from 'pg';
import { parseDistributionEvent, streams } from '@fairlead/contracts';
import { createPostgresEventStore } from '@fairlead/event-store';
import type { World } from './fixtures';

const worlds = JSON.parse(process.env.PERF_WORLDS ?? '[]') as World[];
const leads = Number(process.env.PERF_LEADS ?? 100);
const rate = Number(process.env.PERF_RATE ?? 0);
const ASSIGNED_PER_LEAD = 4;
const nicheEvent = process.env.PERF_NICHE_EVENT === '1';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 8 });
const store = createPostgresEventStore({ pool });

async function oneLead(n: number): Promise<void> {
  const leadId = `lead-${randomUUID()}`;
  const first = worlds[n % worlds.length]!;
  await store.append(
    streams.lead(leadId),
    [
      {
        id: randomUUID(),
        type: 'LeadApproved',
        data: parseDistributionEvent('LeadApproved', {
          lead: {
            schema_version: 1,
            lead_id: leadId,
            niche_id: first.nicheId,
            approved_at: new Date().toISOString(),
            consumer: { name: 'Maria Lopez', email: 'maria.lopez@example.com', phone: '+1 512 555 0100' },
            location: { postal_code: '78701', state: 'tx', city: 'Austin' },
            details: {},
          },
          received_via: 'nats',
        }),
      },
    ],
    'no_stream',
  );
  if (nicheEvent) {
    const level = { level_id: first.levelId, name: 'Gold', order_position: 1, max_recipients: 3, price_per_lead_cents: 2500 };
    await store.append(
      streams.niche(first.nicheId),
      [
        {
          id: randomUUID(),
          type: 'StartLevelClaimed',
          data: parseDistributionEvent('StartLevelClaimed', { niche_id: first.nicheId, lead_id: leadId, start_order_position: 1, next_start_order_position: 1, traversal: [level] }),
        },
      ],
      'any',
    );
  }
  const assigned = Array.from({ length: ASSIGNED_PER_LEAD }, (_, k) => {
    const w = worlds[(n + k) % worlds.length]!;
    return {
      id: randomUUID(),
      type: 'LeadAssigned' as const,
      data: parseDistributionEvent('LeadAssigned', {
        assignment_id: randomUUID(),
        lead_id: leadId,
        niche_id: w.nicheId,
        provider_id: w.providerId,
        subscription_id: w.subscriptionId,
        level_id: w.levelId,
        level_name: 'Gold',
        order_position: k + 1,
        price_cents: 2500,
        balance_after_cents: 10_000,
        assigned_at: new Date().toISOString(),
      }),
    };
  });
  await store.append(streams.lead(leadId), assigned, 'any');
}

process.stdout.write('ready\n');
process.stdin.setEncoding('utf8');
await once(process.stdin, 'data');
const started = performance.now();
if (rate <= 0) {
  const inFlight = new Set<Promise<void>>();
  for (let n = 0; n < leads; n++) {
    const p = oneLead(n).finally(() => inFlight.delete(p));
    inFlight.add(p);
    if (inFlight.size >= 8) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
} else {
  const pending: Promise<void>[] = [];
  for (let n = 0; n < leads; n++) {
    const due = started + (n * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    pending.push(oneLead(n));
  }
  await Promise.all(pending);
}
process.stdin.destroy();
await store.close();
await pool.end().catch(() => undefined);
process.stdout.write('done\n');
process.exit(0);
