/**
 * Micro-benchmark of how append_batch gets the events' data and metadata over the wire,
 * against real PostgreSQL. Each "lead" is a realistic mix of 16 events in 6 append_batch
 * calls (LeadApproved ~1 KB; DistributionRequested; DistributionStarted; 3 × ProvidersSelected
 * of 50 candidates with uuid subscription ids, 10 exclusions and 2 picks, ~6.8 KB each;
 * 4 LeadAssigned; a ProviderSkipped; DistributionCompleted; 4 WalletCharged to 4 wallets in
 * one call), each event with a trace context and correlation ids as metadata. Ways, alternated
 * in PERF_ROUNDS rounds of PERF_LEADS leads each, one call at a time on one connection:
 * - `array`: data and metadata as two `jsonb[]` parameters, i.e. JS arrays of JSON strings,
 *   which node-postgres writes as array literals (every `"` and `\` escaped) and PostgreSQL
 *   un-escapes before parsing each element;
 * - `json`: each as one parameter holding a JSON array (`[` + the encoded events joined by
 *   `,` + `]`: no escaping), turned back into the `jsonb[]` argument in the call's SQL — what
 *   the store sends (appendBatchCall in src/postgres/append.ts);
 * - `json-param`: the same parameter taken by a variant of append_batch whose p_data and
 *   p_metadata are jsonb arrays (what a migration would change), unnested in the insert.
 * Per lead: node CPU (process.cpuUsage: encoding, the driver, the replies) and the CPU of the
 * connection's PostgreSQL backend (/proc/<pid>/stat); medians of the rounds. Wall time is
 * printed but not the point: the machine is shared.
 *
 *   npx vitest run -c libs/event-store/perf/vitest.config.ts
 *   PERF_LEADS=500 PERF_ROUNDS=7 npx vitest run -c libs/event-store/perf/vitest.config.ts
 */
import { randomUUID } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@fairlead/testing';
import { backendCpuDelta, backendCpuMs, median } from '@fairlead/testing/perf';
import { createPostgresEventStore, type NewEvent, type PostgresEventStore } from '../src/index';
import { DEFAULT_MAX_EVENT_BYTES, encodeEvents } from '../src/encode-events';
import { appendNotifyCategoriesSql } from '../src/postgres/append-sql';
import { notifyChannel } from '../src/postgres/schema';

const LEADS = Number(process.env.PERF_LEADS ?? 300);
const ROUNDS = Number(process.env.PERF_ROUNDS ?? 5);
const WARMUP = 30;
const APPLICATION = 'event-store-append-perf';

interface Append {
  stream: string;
  events: NewEvent[];
  expected: number;
}
/** One append_batch call: one or more appends. */
type Call = Append[];

const iso = (i: number) => new Date(Date.UTC(2026, 11, 3, 9, 0, i)).toISOString();

/** One lead's appends, as the services make them (fresh ids and uuids each lead). */
function leadCalls(n: number): Call[] {
  const lead = `lead-perf-${n}-${randomUUID().slice(0, 8)}`;
  const leadId = lead.slice('lead-'.length);
  const requestId = randomUUID();
  const metadata = {
    trace: { traceparent: `00-${randomUUID().replaceAll('-', '')}-${randomUUID().replaceAll('-', '').slice(0, 16)}-01` },
    correlation_id: requestId,
    causation_id: randomUUID(),
  };
  const ev = (type: string, data: unknown): NewEvent => ({ id: randomUUID(), type, data, metadata });
  const levels = [1, 2, 3].map((l) => ({ level_id: `level-${l}`, name: `Level ${l} — “premium” contractors`, order_position: l, max_recipients: 2, price_per_lead_cents: 2_500 * l }));
  const providersSelected = (l: number) => {
    const candidates = Array.from({ length: 50 }, (_, i) => ({ provider_id: `provider-${l}-${i}`, subscription_id: randomUUID(), last_received_at: iso(i) }));
    const excluded = Array.from({ length: 10 }, (_, i) => ({ provider_id: `provider-${l}-x${i}`, subscription_id: randomUUID(), reason: i % 2 ? 'daily_cap' : 'insufficient_balance' }));
    const picks = candidates.slice(0, 2).map((c) => ({ provider_id: c.provider_id, subscription_id: c.subscription_id, price_cents: 2_500 * l }));
    return ev('ProvidersSelected', { lead_id: leadId, level_id: `level-${l}`, order_position: l, round: 0, candidates, excluded, picks });
  };
  const assigned = (l: number, i: number) =>
    ev('LeadAssigned', {
      assignment_id: randomUUID(),
      lead_id: leadId,
      niche_id: 'roofing',
      provider_id: `provider-${l}-${i}`,
      subscription_id: randomUUID(),
      level_id: `level-${l}`,
      level_name: `Level ${l}`,
      order_position: l,
      price_cents: 2_500 * l,
      balance_after_cents: 100_000 - 2_500 * l,
      assigned_at: iso(l * 10 + i),
    });
  const approved = ev('LeadApproved', {
    schema_version: 1,
    lead_id: leadId,
    niche_id: 'roofing',
    approved_at: iso(0),
    consumer: { name: 'Ada “the Countess” Lovelace', email: 'ada.lovelace@example.com', phone: '+1 512 555 0142' },
    location: { postal_code: '73301', state: 'TX', city: 'Austin', street: '1100 Congress Ave, Suite 2' },
    details: {
      roof: 'shingle',
      stories: 2,
      square_feet: 2_400,
      timeline: 'within 3 months',
      notes: 'Leak over the garage after the storm; "urgent" per the caller. Prefers e-mail, evenings only.\nGate code 4711.',
      source: { campaign: 'spring-2026', medium: 'cpc', keyword: 'roof repair austin', landing: 'https://example.com/roofing?utm=a&b=c' },
      consents: [{ kind: 'tcpa', given_at: iso(0), text: 'I agree to be contacted by up to 4 contractors about my request.' }],
    },
  });
  const wallets = [1, 2].flatMap((l) => [0, 1].map((i) => `wallet-provider-${l}-${i}-${leadId}`));
  return [
    [{ stream: lead, events: [approved], expected: -1 }],
    [{ stream: lead, events: [ev('DistributionRequested', { lead_id: leadId, niche_id: 'roofing', request_id: requestId, requested_by: { kind: 'system' }, requested_at: iso(1) })], expected: 0 }],
    [
      {
        stream: lead,
        events: [
          ev('DistributionStarted', { lead_id: leadId, niche_id: 'roofing', request_id: requestId, attempt: 1, start_order_position: 1, traversal: levels, started_at: iso(2) }),
          providersSelected(1),
          assigned(1, 0),
          assigned(1, 1),
        ],
        expected: 1,
      },
    ],
    [{ stream: lead, events: [providersSelected(2), assigned(2, 0), assigned(2, 1)], expected: 5 }],
    [
      {
        stream: lead,
        events: [
          providersSelected(3),
          ev('ProviderSkipped', { lead_id: leadId, provider_id: 'provider-3-0', subscription_id: randomUUID(), level_id: 'level-3', reason: 'insufficient_balance', detail: 'balance 1200 < price 7500' }),
          ev('DistributionCompleted', { lead_id: leadId, niche_id: 'roofing', request_id: requestId, outcome: 'partially_assigned', assigned: 4, completed_at: iso(40) }),
        ],
        expected: 8,
      },
    ],
    wallets.map((stream, i) => ({
      stream,
      events: [ev('WalletCharged', { provider_id: stream, lead_id: leadId, amount_cents: 2_500 * (1 + Math.floor(i / 2)), balance_after_cents: 97_500, charged_at: iso(50 + i) })],
      expected: -1,
    })),
  ];
}

/** append_batch's $1–$6 for one call, and the events' JSON (encoded and checked as the store does). */
function encodeCall(call: Call) {
  const p = { streams: [] as string[], expected: [] as number[], counts: [] as number[], app: [] as number[], ids: [] as string[], types: [] as string[] };
  const data: string[] = [];
  const metadata: string[] = [];
  call.forEach((a, index) => {
    const encoded = encodeEvents(a.stream, a.events, DEFAULT_MAX_EVENT_BYTES);
    p.streams.push(a.stream);
    p.expected.push(a.expected);
    p.counts.push(a.events.length);
    a.events.forEach((e, i) => {
      p.app.push(index + 1);
      p.ids.push(e.id);
      p.types.push(e.type);
      data.push(encoded.data[i]!);
      metadata.push(encoded.metadata[i]!);
    });
  });
  return { first: [p.streams, p.expected, p.counts, p.app, p.ids, p.types], data, metadata };
}

const RESULT = 'select r_outcomes, r_versions, r_positions::text[] as r_positions from';
const elements = (n: number) => `array(select x from jsonb_array_elements($${n}::jsonb) with ordinality as t(x, i) order by i)`;
const ways = {
  array: {
    text: `${RESULT} eventstore.append_batch($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    values: (c: ReturnType<typeof encodeCall>) => [...c.first, c.data, c.metadata, false],
  },
  json: {
    text: `${RESULT} eventstore.append_batch($1, $2, $3, $4, $5, $6, ${elements(7)}, ${elements(8)}, $9)`,
    values: (c: ReturnType<typeof encodeCall>) => [...c.first, `[${c.data.join(',')}]`, `[${c.metadata.join(',')}]`, false],
  },
  'json-param': {
    text: `${RESULT} eventstore.append_batch_jsonb($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    values: (c: ReturnType<typeof encodeCall>) => [...c.first, `[${c.data.join(',')}]`, `[${c.metadata.join(',')}]`, false],
  },
} as const;
type Way = keyof typeof ways;

/** append_batch taking p_data and p_metadata as one jsonb array each (the migration one could write). */
function appendBatchJsonbSql(): string {
  const sql = appendNotifyCategoriesSql('eventstore', notifyChannel('eventstore'))
    .replaceAll('eventstore.append_batch(', 'eventstore.append_batch_jsonb(')
    .replace('p_data jsonb[], p_metadata jsonb[]', 'p_data jsonb, p_metadata jsonb')
    .replaceAll('text[], text[], jsonb[], jsonb[], boolean', 'text[], text[], jsonb, jsonb, boolean')
    .replace(
      'from unnest(p_ids, p_types, p_data, p_metadata, p_app) with ordinality as u(id, type, data, metadata, app, k)',
      'from rows from (unnest(p_ids), unnest(p_types), jsonb_array_elements(p_data), jsonb_array_elements(p_metadata), unnest(p_app)) with ordinality as u(id, type, data, metadata, app, k)',
    );
  if (!sql.includes('jsonb_array_elements(p_data)') || !sql.includes('p_data jsonb,')) throw new Error('append_batch changed: update appendBatchJsonbSql');
  return sql;
}

let db: TestDatabase;
let store: PostgresEventStore;
let pool: pg.Pool;

beforeAll(async () => {
  db = await createTestDatabase('es_append_perf');
  store = createPostgresEventStore({ pool: db.pool, pollIntervalMs: 60_000 });
  await store.migrate();
  expect(store.schema).toBe('eventstore');
  await db.pool.query(appendBatchJsonbSql());
  // One connection, named, so that only its backend is measured.
  pool = new pg.Pool({ connectionString: db.url, max: 1, application_name: APPLICATION });
});
afterAll(async () => {
  await pool?.end();
  await store?.close();
  await db?.drop();
});

// A full collection before each measured stretch: no way pays for the garbage of the one before.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

async function runLeads(way: Way, leads: readonly Call[][]): Promise<void> {
  const { text, values } = ways[way];
  for (const calls of leads) {
    for (const call of calls) {
      const { rows } = await pool.query<{ r_outcomes: string[] }>({ name: `perf_${way}`, text, values: values(encodeCall(call)) });
      if (rows[0]!.r_outcomes.some((o) => o !== 'ok')) throw new Error(`${way}: ${rows[0]!.r_outcomes.join(',')}`);
    }
  }
}

it(`appends a lead's 16 events in 6 calls each way: ${ROUNDS} rounds of ${LEADS} leads`, async () => {
  let n = 0;
  const makeLeads = (count: number) => Array.from({ length: count }, () => leadCalls(n++));

  // Every way stores the same thing.
  const sizes: number[] = [];
  for (const way of Object.keys(ways) as Way[]) {
    const [calls] = makeLeads(1);
    await runLeads(way, [calls!]);
    const appended = calls!.flat();
    const stored = await store.readStreams([...new Set(appended.map((a) => a.stream))]);
    const byId = new Map([...stored.values()].flat().map((e) => [e.id, e]));
    for (const e of appended.flatMap((a) => a.events)) {
      expect(byId.get(e.id)?.data, `${way} ${e.type}`).toEqual(e.data);
      expect(byId.get(e.id)?.metadata, `${way} ${e.type}`).toEqual(e.metadata);
    }
    if (sizes.length === 0) for (const e of appended.flatMap((a) => a.events)) sizes.push(JSON.stringify(e.data).length + JSON.stringify(e.metadata).length);
  }
  for (const way of Object.keys(ways) as Way[]) await runLeads(way, makeLeads(WARMUP));

  const cost = Object.fromEntries(Object.keys(ways).map((w) => [w, { node: [] as number[], postgres: [] as number[], total: [] as number[], wall: [] as number[] }])) as Record<Way, Record<'node' | 'postgres' | 'total' | 'wall', number[]>>;
  for (let round = 0; round < ROUNDS; round++) {
    // Alternated, and the order turned each round: neither way always runs first.
    const order = (Object.keys(ways) as Way[]).map((_, i, all) => all[(i + round) % all.length]!);
    for (const way of order) {
      const leads = makeLeads(LEADS);
      const c = cost[way];
      gc();
      const pgBefore = await backendCpuMs(pool, { applicationName: APPLICATION });
      const cpuBefore = process.cpuUsage();
      const t0 = performance.now();
      await runLeads(way, leads);
      c.wall.push((performance.now() - t0) / LEADS);
      const cpu = process.cpuUsage(cpuBefore);
      const nodeMs = (cpu.user + cpu.system) / 1000 / LEADS;
      c.node.push(nodeMs);
      const pgMs = backendCpuDelta(pgBefore, await backendCpuMs(pool, { applicationName: APPLICATION }));
      if (pgMs !== undefined) {
        c.postgres.push(pgMs / LEADS);
        c.total.push(nodeMs + pgMs / LEADS);
      }
    }
  }

  const list = (xs: readonly number[]) => xs.map((x) => x.toFixed(3)).join(' ');
  const bytes = sizes.reduce((a, b) => a + b, 0);
  const lines = [
    `append_batch, per lead 16 events (${bytes} bytes of JSON data + metadata) in 6 calls: ${ROUNDS} rounds of ${LEADS} leads each way, one call at a time`,
  ];
  const base = cost.array;
  /** Per round, this way's figure less array's of the same round (negative: cheaper). */
  const paired = (xs: readonly number[], of: readonly number[]) => xs.map((x, i) => x - of[i]!);
  for (const [way, c] of Object.entries(cost)) {
    const vs =
      way === 'array' || !c.total.length
        ? []
        : [
            `    vs array, round by round: node ${median(paired(c.node, base.node)).toFixed(3)} ms (${list(paired(c.node, base.node))})`,
            `                              PostgreSQL ${median(paired(c.postgres, base.postgres)).toFixed(3)} ms (${list(paired(c.postgres, base.postgres))})`,
            `                              together ${median(paired(c.total, base.total)).toFixed(3)} ms (${list(paired(c.total, base.total))})`,
          ];
    lines.push(
      `  ${way}: ${ways[way as Way].text.replace(/\s+/g, ' ')}`,
      `    node CPU: median ${median(c.node).toFixed(3)} ms per lead (rounds: ${list(c.node)})`,
      `    PostgreSQL backend CPU: ${c.postgres.length ? `median ${median(c.postgres).toFixed(3)} ms per lead (rounds: ${list(c.postgres)})` : 'n/a (/proc not readable)'}`,
      `    together: ${c.total.length ? `median ${median(c.total).toFixed(3)} ms per lead (rounds: ${list(c.total)})` : 'n/a'}`,
      `    wall: median ${median(c.wall).toFixed(2)} ms per lead (shared machine: indicative only)`,
      ...vs,
    );
  }
  console.log(lines.join('\n'));
});
