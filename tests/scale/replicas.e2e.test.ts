/**
 * Scale-out on one machine: a three-node NATS cluster (streams with three replicas) and two
 * processes of every service — relay, intake, rotation, fairness, billing, notification,
 * operator API — on one PostgreSQL. Leads flow while one NATS node (the events stream's
 * leader) and one replica of every service are killed with SIGKILL and started again.
 * Then: every lead has one outcome; no assignment, charge or email twice; each decision
 * followed the least-recently-served order as a single replica does; `fairlead verify`
 * finds the operator API's read models identical to a rebuild from the store.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SETUP_TIMEOUT_MS, startPrivateNatsCluster, waitFor } from '@fairlead/testing';
import { checkInvariants, collectFacts } from '../support/invariants';
import { seedNiche, seedProvider, seedSubscription, unique, type SeededNiche } from '../support/seed';
import { leadPayload, startDistributionSystem, type DistributionServiceName, type DistributionSystem } from '../support/system';
import { fairnessOrderViolations } from './fairness-order';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const LEVELS = [
  { max_recipients: 2, price_per_lead_cents: 300 },
  { max_recipients: 1, price_per_lead_cents: 200 },
  { max_recipients: 1, price_per_lead_cents: 100 },
];
const PROVIDERS_PER_LEVEL = 4;
const ASSIGNMENTS_PER_LEAD = LEVELS.reduce((s, l) => s + l.max_recipients, 0);
const SERVICES: DistributionServiceName[] = ['relay', 'intake', 'rotation', 'fairness', 'billing', 'notification', 'operator-api'];

let cluster: Awaited<ReturnType<typeof startPrivateNatsCluster>>;
let system: DistributionSystem;

beforeAll(async () => {
  cluster = await startPrivateNatsCluster(3);
  system = await startDistributionSystem('scale', {
    natsUrl: cluster.url,
    streamReplicas: 3,
    replicas: 2,
    operatorApi: true,
    notification: true,
    backoffMs: [500, 1000, 2000, 4000, 8000],
  });
}, SETUP_TIMEOUT_MS);
afterAll(async () => {
  await system?.close();
  await cluster?.dispose();
});

async function seedMarket(): Promise<{ niche: SeededNiche; providers: string[] }> {
  const niche = await seedNiche(system, 'scale', LEVELS);
  const providers: string[] = [];
  for (const position of [1, 2, 3]) {
    for (let i = 0; i < PROVIDERS_PER_LEVEL; i++) {
      const id = await seedProvider(system, unique(`scale-l${position}p${i}`), 10_000_000);
      await seedSubscription(system, id, niche, position);
      providers.push(id);
    }
  }
  return { niche, providers };
}

/** An upstream publisher retries while the cluster elects a new leader. */
async function publish(leadIds: string[], nicheId: string): Promise<void> {
  await Promise.all(
    leadIds.map(async (id) => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await system.publishLead(leadPayload(id, nicheId));
        } catch (error) {
          if (attempt >= 30) throw error;
          await new Promise((r) => setTimeout(r, 500));
        }
      }
    }),
  );
}

async function outcomes(leads: string[]): Promise<number> {
  const { rows } = await system.db.pool.query<{ n: number }>(
    `select count(*)::int as n from eventstore.events where type = 'DistributionCompleted' and stream_name = any($1)`,
    [leads.map((id) => `lead-${id}`)],
  );
  return rows[0]!.n;
}

function fairlead(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolveRun) => {
    const proc = spawn(process.execPath, [resolve(repoRoot, 'cli/bin/fairlead.js'), ...args], {
      cwd: repoRoot,
      env: { ...process.env, DATABASE_URL: system.db.url },
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    proc.on('exit', (code) => resolveRun({ code, stdout, stderr }));
  });
}

describe('two replicas of every service on a three-node NATS cluster', () => {
  it('keep every lead, charge and email exactly once, in fairness order, through a killed node and a killed replica of each service', async () => {
    const { niche, providers } = await seedMarket();
    const batch = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `scale-${tag}-${i}-${randomUUID().slice(0, 6)}`);
    const leads = [...batch(40, 'a'), ...batch(40, 'b'), ...batch(40, 'c')];

    await publish(leads.slice(0, 40), niche.niche_id);
    await waitFor(async () => (await outcomes(leads)) >= 10, { timeoutMs: 120_000, intervalMs: 50, what: 'the first outcomes' });

    // The worst moment for the cluster: the node that leads the events stream goes, and one
    // process of every service with it.
    const leader = (await system.jsm.streams.info(system.subjects.streams.events)).cluster?.leader;
    const node = cluster.nodes.find((n) => n.name === leader) ?? cluster.nodes[0]!;
    await Promise.all([node.server.kill(), ...SERVICES.map((name) => system.replicas[name][0]!.kill())]);
    const doneAtCrash = await outcomes(leads);
    expect(doneAtCrash).toBeLessThan(leads.length);
    await publish(leads.slice(40, 80), niche.niche_id);
    await node.server.restart();
    await Promise.all(SERVICES.map((name) => system.replicas[name][0]!.restart()));
    await publish(leads.slice(80), niche.niche_id);

    await waitFor(async () => (await outcomes(leads)) === leads.length, { timeoutMs: 240_000, intervalMs: 250, what: `all ${leads.length} outcomes` });
    // No process gave up on the way (a supervisor would have restarted it, hiding that).
    for (const name of SERVICES) {
      for (const p of system.replicas[name]) {
        const ready = await fetch(`http://127.0.0.1:${p.port}/readyz`).then((r) => r.status, () => 0);
        expect(ready, `${name}:${p.port} ${p.output().slice(-2_000)}`).toBe(200);
      }
    }

    const facts = await collectFacts(system, niche.niche_id, leads, providers);
    const maxRecipients = Object.fromEntries(niche.levels.map((id, i) => [id, LEVELS[i]!.max_recipients]));
    expect(checkInvariants(facts, { levels: LEVELS.length, leadIds: leads, maxRecipients })).toEqual([]);
    expect(facts.outcomes.map((o) => o.outcome)).toEqual(leads.map(() => 'success'));
    expect(facts.assignments).toHaveLength(leads.length * ASSIGNMENTS_PER_LEAD);

    const leadEvents = (await Promise.all(leads.map((id) => system.leadEvents(id)))).flat();
    expect(fairnessOrderViolations(leadEvents)).toEqual([]);

    // One email per assignment: one outbox row each, sent; the catcher holds each Message-ID.
    // A replica killed between SMTP's acceptance and its commit sends that email again with
    // the same Message-ID (the one duplicate SMTP allows): at most one per email in hand.
    const assignmentIds = facts.assignments.map((a) => a.assignment_id);
    await waitFor(
      async () => {
        const { rows } = await system.db.pool.query<{ sent: number }>(`select count(*)::int as sent from notification.outbox where kind = 'lead_assigned' and status = 'sent'`);
        return rows[0]!.sent === assignmentIds.length;
      },
      { timeoutMs: 120_000, intervalMs: 250, what: 'an email sent per assignment' },
    );
    const { rows: mail } = await system.db.pool.query<{ rows: number; distinct_ids: number; caught: number; caught_distinct: number; unknown: number }>(
      `select (select count(*)::int from notification.outbox where kind = 'lead_assigned') as rows,
              (select count(distinct message_id)::int from notification.outbox where kind = 'lead_assigned') as distinct_ids,
              (select count(*)::int from notification.caught_mail) as caught,
              (select count(distinct message_id)::int from notification.caught_mail) as caught_distinct,
              (select count(*)::int from notification.caught_mail c where not exists
                 (select 1 from notification.outbox o where o.message_id = c.message_id)) as unknown`,
    );
    const m = mail[0]!;
    expect({ rows: m.rows, distinct_ids: m.distinct_ids, caught_distinct: m.caught_distinct, unknown: m.unknown }).toEqual({
      rows: assignmentIds.length,
      distinct_ids: assignmentIds.length,
      caught_distinct: assignmentIds.length,
      unknown: 0,
    });
    // EMAIL_CONCURRENCY (4) emails in hand per consumer of the killed replica, at most.
    expect(m.caught - m.caught_distinct).toBeLessThanOrEqual(4);

    // The operator API's read models (applied by two replicas) equal a rebuild from the store,
    // once they have caught up (verify until it says so; a double-applied event never would).
    let verify = await fairlead('verify');
    for (const deadline = Date.now() + 120_000; verify.code !== 0 && Date.now() < deadline; ) {
      await new Promise((r) => setTimeout(r, 3_000));
      verify = await fairlead('verify');
    }
    expect(verify.code, `${verify.stdout}\n${verify.stderr}`).toBe(0);
    expect(verify.stdout).toMatch(/identical/);
  }, 900_000);
});
