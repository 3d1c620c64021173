/**
 * `npm run demo`: shows the distribution working within a minute. It seeds a niche with
 * three competition levels and a few providers, publishes `lead.approved` messages as an
 * upstream system would (the first one POSTed to intake's HTTP API with the upstream API
 * key, the others on NATS), and prints each lead's outcome as it happens.
 *
 * It talks to a running system (`npm start` in another terminal, or NATS_URL); when none
 * answers, it starts one itself for the length of the demo.
 */
import { randomUUID } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { access, readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jetstream } from '@nats-io/jetstream';
import { z } from 'zod';
import { COMMANDS, DistributionCompleted, RelayedEvent, subjectsFor, type BusIdentity, type CommandReply, type CommandRequest, type CommandService, type CommandVerb } from '@fairlead/contracts';
import { connectNats, natsCredentialsFrom, publishDurable, request, type NatsCredentials } from '@fairlead/messaging';
import { servicePorts } from '../services';
import { skipLabel } from './labels';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const DemoConfig = z.object({
  NATS_URL: z.string().default(`nats://127.0.0.1:${process.env.FAIRLEAD_NATS_PORT ?? 42229}`),
  NATS_NAMESPACE: z.string().regex(/^[A-Za-z0-9_-]*$/).default(''),
  DEMO_LEADS: z.coerce.number().int().min(1).max(1000).default(6),
  FAIRLEAD_DATA_DIR: z.string().default(resolve(repoRoot, '.data')),
  /** The key intake accepts (one of its UPSTREAM_API_KEYS); default: the local key `npm start` generates. */
  DEMO_UPSTREAM_API_KEY: z.string().optional(),
});
const config = Object.freeze(DemoConfig.parse(process.env));
const subjects = subjectsFor(config.NATS_NAMESPACE);
const say = (line: string) => console.log(line);
type NatsConnection = Awaited<ReturnType<typeof connectNats>>;

// The demo plays three parts on the bus, each with its own identity (docs/security.md "Bus"):
// the operator API's (seeding niches, providers and subscriptions), upstream's (publishing
// lead.approved), and admin's (watching the relayed outcomes, which no service identity may
// read outside its own consumers). Locally their seeds are the ones `npm start` generates.
const seedDir = resolve(config.FAIRLEAD_DATA_DIR, 'auth', 'nats');
const servers = config.NATS_URL.split(',');
let system: ChildProcess | undefined;
let watcher: NatsConnection;
try {
  watcher = await connectNats({ servers, name: 'demo-watch', credentials: await credentialsOf('admin'), waitOnFirstConnect: false, timeoutMs: 2_000 });
} catch {
  say(`No system answers at ${config.NATS_URL}; starting one (npm start) for this demo…`);
  system = spawn(process.execPath, ['--import', 'tsx', resolve(repoRoot, 'infra/src/start.ts')], { cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'] });
  // npm start writes the seeds before it starts nats-server.
  await waitForFile(resolve(seedDir, 'admin.nk'));
  watcher = await connectNats({ servers, name: 'demo-watch', credentials: await credentialsOf('admin') });
}
const nc = await connectNats({ servers, name: 'demo-operator', credentials: await credentialsOf('operator-api') });
const upstream = await connectNats({ servers, name: 'demo-upstream', credentials: await credentialsOf('upstream') });
// Services started by `npm start` on this machine answer on their known ports once ready.
if (system || /127\.0\.0\.1|localhost/.test(config.NATS_URL)) await waitForServices(['relay', 'intake', 'rotation', 'fairness', 'billing']);

async function command<S extends CommandService, V extends CommandVerb<S>>(service: S, verb: V, body: CommandRequest<S, V>): Promise<CommandReply<S, V>> {
  const entry = (COMMANDS[service] as Record<string, { reply: z.ZodType }>)[verb]!;
  return (await request(nc, subjects.command(service, verb), body, { responseSchema: entry.reply, timeoutMs: 10_000 })) as never;
}

const run = randomUUID().slice(0, 6);
const nicheId = `movers-${run}`;
say(`\nSeeding niche ${nicheId} with three levels (Gold, Silver, Bronze) and five providers…`);
await command('rotation', 'create_niche', { niche_id: nicheId, name: 'Movers', auto_distribute: true });
const levels = [
  { name: 'Gold', max_recipients: 2, price_per_lead_cents: 4900 },
  { name: 'Silver', max_recipients: 1, price_per_lead_cents: 2900 },
  { name: 'Bronze', max_recipients: 1, price_per_lead_cents: 1500 },
];
for (const [i, level] of levels.entries()) {
  await command('rotation', 'add_level', { niche_id: nicheId, level_id: `${nicheId}-${level.name.toLowerCase()}`, order_position: i + 1, active: true, ...level });
}
const providers = [
  { name: 'ABC Movers', balance: 20_000, levels: [1] },
  { name: 'Bay Area Hauling', balance: 6_000, levels: [1, 2] },
  { name: 'Careful Crates', balance: 100_000, levels: [1] },
  { name: 'Downtown Dollies', balance: 2_000, levels: [2, 3] },
  { name: 'Eastside Express', balance: 50_000, levels: [3] },
];
const names = new Map<string, string>();
for (const p of providers) {
  const id = `${p.name.toLowerCase().replace(/[^a-z]+/g, '-')}-${run}`;
  names.set(id, p.name);
  await command('billing', 'register_provider', { provider_id: id, name: p.name, email: `${id}@providers.example` });
  await command('billing', 'top_up', { provider_id: id, amount_cents: p.balance, reference: 'demo' });
  for (const position of p.levels) {
    await command('fairness', 'create_subscription', {
      provider_id: id,
      niche_id: nicheId,
      level_id: `${nicheId}-${levels[position - 1]!.name.toLowerCase()}`,
      service_area: { states: ['CA'], postal_codes: [] },
    });
  }
  say(`  ${p.name.padEnd(18)} $${(p.balance / 100).toFixed(2).padStart(8)}  levels ${p.levels.join(', ')}`);
}

// Outcomes arrive as relayed DistributionCompleted events.
const leads = Array.from({ length: config.DEMO_LEADS }, (_, i) => `demo-${run}-${i + 1}`);
const pending = new Set(leads);
const outcomeSub = watcher.subscribe(subjects.eventSubject('lead', 'DistributionCompleted'));
const printed = (async () => {
  for await (const msg of outcomeSub) {
    const event = RelayedEvent.safeParse(msg.json());
    if (!event.success) continue;
    const outcome = DistributionCompleted.safeParse(event.data.data);
    if (!outcome.success || !pending.delete(outcome.data.lead_id)) continue;
    const o = outcome.data;
    say(`\n${o.lead_id}: ${o.outcome.toUpperCase()} — start level ${o.start_order_position}, ${o.duration_ms.toFixed(0)} ms`);
    for (const a of o.assignments) say(`  ✓ ${names.get(a.provider_id)?.padEnd(18)} ${levelName(a.level_id).padEnd(7)} charged $${(a.price_cents / 100).toFixed(2)}`);
    for (const s of o.skipped) {
      const assignedIn = o.assignments.find((a) => a.provider_id === s.provider_id)?.level_id;
      const label = skipLabel(s.reason, { assignedIn: assignedIn && levelName(assignedIn), priceCents: levels.find((l) => l.name === levelName(s.level_id))?.price_per_lead_cents });
      say(`  ✗ ${names.get(s.provider_id)?.padEnd(18)} ${levelName(s.level_id).padEnd(7)} ${label}`);
    }
    if (pending.size === 0) break;
  }
})();

say(`\nPublishing ${leads.length} lead.approved messages (consumers in CA)…`);
const js = jetstream(upstream);
const upstreamKey = await localUpstreamKey();
for (const [i, id] of leads.entries()) {
  const lead = {
    schema_version: 1,
    lead_id: id,
    niche_id: nicheId,
    approved_at: new Date().toISOString(),
    consumer: { name: 'Dana Consumer', email: 'dana@example.com' },
    location: { postal_code: '94107', state: 'CA', city: 'San Francisco' },
    details: { move_size: '2 bedrooms' },
  };
  if (i === 0 && upstreamKey) {
    // As an upstream system without NATS would: intake's HTTP API, authenticated by its API key.
    const res = await fetch(`http://127.0.0.1:${servicePorts().intake}/v1/leads/approved`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': upstreamKey },
      body: JSON.stringify(lead),
    });
    if (res.ok) {
      say(`  ${id} POSTed to intake over HTTP (X-Api-Key)`);
      continue;
    }
    say(`  intake refused ${id} over HTTP (${res.status}); publishing it on NATS instead`);
  }
  await publishDurable(js, subjects.leadApproved, lead, { msgID: `demo-${id}` });
}
const timeout = setTimeout(() => {
  say(`\nStill waiting for ${[...pending].join(', ')} after 60 s; see the service logs.`);
  outcomeSub.unsubscribe();
}, 60_000);
await printed;
clearTimeout(timeout);

say('\nWallets now:');
for (const [id, name] of names) {
  const p = await command('billing', 'get_provider', { provider_id: id });
  say(`  ${name.padEnd(18)} $${(p.balance_cents / 100).toFixed(2).padStart(8)}`);
}
await Promise.all([nc.close(), upstream.close(), watcher.close()]);
if (system) {
  system.kill('SIGTERM');
  await new Promise((r) => system!.once('exit', r));
}

/**
 * The upstream API key for intake's HTTP API: DEMO_UPSTREAM_API_KEY, or the local key intake
 * generates under the data directory (platform's defaultUpstreamKeyFile) when the system is
 * local; undefined otherwise (all leads then go over NATS).
 */
async function localUpstreamKey(): Promise<string | undefined> {
  if (config.DEMO_UPSTREAM_API_KEY) return config.DEMO_UPSTREAM_API_KEY;
  if (!system && !/127\.0\.0\.1|localhost/.test(config.NATS_URL)) return undefined;
  try {
    return (await readFile(resolve(config.FAIRLEAD_DATA_DIR, 'auth', 'upstream-api-key'), 'utf8')).trim() || undefined;
  } catch {
    return undefined;
  }
}

/** An identity's credentials: its seed under the data directory when there is one, else what the environment says (NATS_NKEY_SEED_FILE, …). */
async function credentialsOf(identity: BusIdentity): Promise<NatsCredentials> {
  const file = resolve(seedDir, `${identity}.nk`);
  const local = await access(file).then(
    () => true,
    () => false,
  );
  return natsCredentialsFrom(local ? { ...process.env, NATS_NKEY_SEED_FILE: file } : process.env);
}

async function waitForFile(file: string, timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await access(file).then(() => true, () => false))) {
    if (Date.now() > deadline) throw new Error(`${file} did not appear; did npm start fail?`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

function levelName(levelId: string): string {
  return levels.find((l) => levelId.endsWith(`-${l.name.toLowerCase()}`))?.name ?? levelId;
}

async function waitForServices(services: string[], timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const name of services) {
    for (;;) {
      try {
        if ((await fetch(`http://127.0.0.1:${servicePorts()[name]}/readyz`)).ok) break;
      } catch {
        // not up yet
      }
      if (Date.now() > deadline) throw new Error(`${name} did not become ready; is the system running (npm start)?`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
