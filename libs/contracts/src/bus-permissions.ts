/**
 * Who may say what on the bus: the one permission table of Fairlead's NATS identities.
 *
 * nats-server enforces it (infra renders the server's `authorization` block from it),
 * docs/security.md shows it (a test checks the two agree), and the security suite walks it
 * (each allowed subject must work, each other one must be refused by the server).
 *
 * nats-server 2.9 does not stamp the sender's identity on a message, so the subject
 * permission IS the identity: a command subject can only be sent by the identities listed
 * under `sends` here. That is why a command's `actor` field (top-ups, refunds, niche and
 * subscription changes) can be trusted: only `operator-api` may send those commands, and
 * it fills `actor` with the operator it verified (see `commandsCarryingActor` below and
 * its unit test, which fails when a new actor-carrying command becomes sendable by
 * anyone else).
 */
import { COMMANDS, type CommandService } from './distribution/commands';
import { subjectsFor, type Subjects } from './subjects';

/** Every identity that may connect to NATS. */
export const BUS_IDENTITIES = ['admin', 'upstream', 'intake', 'rotation', 'billing', 'fairness', 'relay', 'notification', 'operator-api'] as const;
export type BusIdentity = (typeof BUS_IDENTITIES)[number];

/** The services' identities (one per service process kind; each replica uses its service's). */
export const SERVICE_BUS_IDENTITIES = ['intake', 'rotation', 'billing', 'fairness', 'relay', 'notification', 'operator-api'] as const satisfies readonly BusIdentity[];

type StreamKey = keyof Subjects['streams'];
type Verb<S extends CommandService> = keyof (typeof COMMANDS)[S] & string;
type Sends = { [S in CommandService]?: readonly Verb<S>[] };

/** A durable pull consumer an identity runs: it may create/update and read that one, nothing else. */
interface ConsumerGrant {
  stream: StreamKey;
  durable: string;
  /** The subject the consumer filters on; its dead letters go to `<dlq>.<this>`. */
  filter: (s: Subjects) => string;
}

/** What one identity may do, as data; `renderBusPermissions` turns it into subjects. */
export interface IdentityGrant {
  /** One line for docs/security.md. */
  purpose: string;
  /** Full access to everything (publish and subscribe `>`): stream and consumer administration. */
  admin?: true;
  /** Commands it may send (request), by service and verb. */
  sends?: Sends;
  /** Services whose commands it serves (subscribes to `<cmd>.<service>.*`). */
  serves?: readonly CommandService[];
  /** Durable consumers it runs (and dead-letters from). */
  consumers?: readonly ConsumerGrant[];
  /** Plain subjects it may publish, given the namespace's subjects. */
  publish?: (s: Subjects) => string[];
  /** Answers the operator API's `<ctl>.readers` status request. */
  answersReaders?: true;
  /** Asks every process for the status of its log readers. */
  asksReaders?: true;
  /** Looks up stream configurations (`$JS.API.INFO`, `$JS.API.STREAM.INFO.<stream>`; services check the streams at start-up). */
  readsStreamInfo?: true;
  /** Reads and deletes single messages of these streams (the operator API's dead letters). */
  readsMessagesOf?: readonly StreamKey[];
}

const ACTOR_SENDER: BusIdentity = 'operator-api';

/**
 * THE table. Derived from who calls `request(...)` on which `fairlead.cmd.*` subject
 * (fairness' ports, intake's niche directory, the operator API's command bus) and who
 * consumes or publishes which stream.
 */
export const BUS_PERMISSIONS: Readonly<Record<BusIdentity, IdentityGrant>> = Object.freeze({
  admin: {
    purpose: 'Bootstrap and operations: creates, updates and deletes streams and consumers; tests and tools. Never given to a service.',
    admin: true,
  },
  upstream: {
    purpose: 'Upstream systems that approve leads: publish `lead.approved`, nothing else.',
    publish: (s) => [s.leadApproved],
  },
  intake: {
    purpose: 'Consumes `lead.approved`, looks niches up in rotation, serves the intake commands.',
    sends: { rotation: ['get_niche'] },
    serves: ['intake'],
    consumers: [{ stream: 'leadIntake', durable: 'intake-lead-approved', filter: (s) => s.leadApproved }],
    answersReaders: true,
    readsStreamInfo: true,
  },
  rotation: {
    purpose: 'Serves the rotation commands (niches, levels, start-level claims).',
    serves: ['rotation'],
    answersReaders: true,
    readsStreamInfo: true,
  },
  billing: {
    purpose: 'Serves the billing commands (providers, wallets, charges, refunds).',
    serves: ['billing'],
    answersReaders: true,
    readsStreamInfo: true,
  },
  fairness: {
    purpose: 'Consumes DistributionRequested, claims start levels from rotation, charges through billing, serves the subscription commands.',
    sends: { rotation: ['claim_start_level', 'claim_start_levels'], billing: ['charge', 'charge_many', 'charge_batch'] },
    serves: ['fairness'],
    consumers: [{ stream: 'events', durable: 'fairness-distribution', filter: (s) => s.eventSubject('lead', 'DistributionRequested') }],
    answersReaders: true,
    readsStreamInfo: true,
  },
  relay: {
    purpose: 'The only publisher of stored events (`fairlead.events.>`); republishes a stored event when the operator API redrives its dead letter.',
    publish: (s) => [`${s.events}.>`],
    serves: ['relay'],
    answersReaders: true,
    readsStreamInfo: true,
  },
  notification: {
    purpose: 'Consumes LeadAssigned and SubscriptionStatusChanged and sends mail.',
    consumers: [
      { stream: 'events', durable: 'notification-lead-assigned', filter: (s) => s.eventSubject('lead', 'LeadAssigned') },
      { stream: 'events', durable: 'notification-low-balance', filter: (s) => s.eventSubject('subscription', 'SubscriptionStatusChanged') },
    ],
    answersReaders: true,
    readsStreamInfo: true,
  },
  'operator-api': {
    purpose: 'Operators\u2019 changes as commands (the only sender of commands that carry an actor), reader status, dead-letter review, redrive of `lead.approved`, and of events through the relay.',
    sends: {
      rotation: ['create_niche', 'update_niche', 'add_level', 'update_level', 'get_niche'],
      billing: ['register_provider', 'update_provider', 'get_provider', 'top_up', 'refund'],
      fairness: ['create_subscription', 'update_subscription', 'set_subscription_status', 'get_subscription'],
      intake: ['request_distribution'],
      // A dead-lettered event is redriven by the relay, from the store: event subjects stay the relay's alone.
      relay: ['republish'],
    },
    // A redriven lead.approved goes back to its original subject.
    publish: (s) => [s.leadApproved],
    asksReaders: true,
    // Its own read models (operator.audit, operator.catalogue, …) answer the status request too.
    answersReaders: true,
    readsStreamInfo: true,
    readsMessagesOf: ['deadLetters'],
  },
} satisfies Record<BusIdentity, IdentityGrant>);

/** Subjects of one identity, as nats-server's `permissions` block takes them. */
export interface RenderedPermissions {
  publish: string[];
  subscribe: string[];
  /** May answer the requests it receives (nats-server `allow_responses`), once each. */
  allowResponses: boolean;
}

export interface RenderOptions {
  /**
   * The namespace of the subjects (`NATS_NAMESPACE`, '' in production), or `'*'` for any
   * namespace as well as none (the test server, where each test file has its own).
   */
  namespace: string;
  /** The identity's reply inbox prefix (each connection uses `_INBOX.<its public key>`; see `inboxPrefixOf`). */
  inboxPrefix: (identity: BusIdentity) => string;
}

/** A connection's inbox prefix: replies to an identity go under its own prefix, so no one else may read them. */
export function inboxPrefixOf(publicKey: string): string {
  return `_INBOX.${publicKey}`;
}

/** The subjects each identity may publish and subscribe to. */
export function renderBusPermissions(options: RenderOptions): Record<BusIdentity, RenderedPermissions> {
  const variants = namespaceVariants(options.namespace);
  const out = {} as Record<BusIdentity, RenderedPermissions>;
  for (const identity of BUS_IDENTITIES) {
    const grant: IdentityGrant = BUS_PERMISSIONS[identity];
    if (grant.admin) {
      out[identity] = { publish: ['>'], subscribe: ['>'], allowResponses: false };
      continue;
    }
    const publish = new Set<string>();
    const subscribe = new Set<string>([`${options.inboxPrefix(identity)}.>`]);
    for (const s of variants) {
      for (const [service, verbs] of Object.entries(grant.sends ?? {}) as [CommandService, string[]][]) for (const verb of verbs) publish.add(s.command(service, verb));
      for (const service of grant.serves ?? []) subscribe.add(`${s.commands}.${service}.*`);
      for (const subject of grant.publish?.(s) ?? []) publish.add(subject);
      if (grant.answersReaders) subscribe.add(s.control('readers'));
      if (grant.asksReaders) publish.add(s.control('readers'));
      if (grant.readsStreamInfo) {
        publish.add('$JS.API.INFO');
        for (const stream of Object.values(s.streams)) publish.add(`$JS.API.STREAM.INFO.${stream}`);
      }
      for (const key of grant.readsMessagesOf ?? []) {
        const stream = s.streams[key];
        for (const api of ['STREAM.MSG.GET', 'STREAM.MSG.DELETE', 'DIRECT.GET']) publish.add(`$JS.API.${api}.${stream}`);
      }
      for (const c of grant.consumers ?? []) {
        const stream = s.streams[c.stream];
        for (const api of ['CONSUMER.CREATE', 'CONSUMER.DURABLE.CREATE', 'CONSUMER.INFO', 'CONSUMER.MSG.NEXT']) publish.add(`$JS.API.${api}.${stream}.${c.durable}`);
        // nats.js names the filter subject in the create subject (server 2.9+ API).
        publish.add(`$JS.API.CONSUMER.CREATE.${stream}.${c.durable}.>`);
        publish.add(`$JS.ACK.${stream}.${c.durable}.>`);
        publish.add(s.deadLetterSubject(c.filter(s)));
      }
    }
    out[identity] = { publish: [...publish], subscribe: [...subscribe], allowResponses: (grant.serves?.length ?? 0) > 0 || grant.answersReaders === true };
  }
  return out;
}

/** The Subjects of a namespace; `'*'` gives both the plain subjects and a `*` wildcard in place of any namespace. */
function namespaceVariants(namespace: string): Subjects[] {
  if (namespace !== '*') return [subjectsOf(namespace)];
  // Built with a placeholder token, then the placeholder becomes the wildcard.
  const placeholder = 'NSWILDCARD0';
  const wild = subjectsOf(placeholder);
  // A stream name is one token (`<namespace>_EVENTS`): any namespace's stream is `*`.
  return [subjectsOf(''), mapSubjects(wild, (text) => text.replaceAll(`${placeholder}.`, '*.'), () => '*')];
}

function subjectsOf(namespace: string): Subjects {
  return subjectsFor(namespace);
}

/** A Subjects whose every string (and every built subject) passes through `f`. */
function mapSubjects(s: Subjects, f: (text: string) => string, stream: (name: string) => string): Subjects {
  return {
    namespace: '*',
    leadApproved: f(s.leadApproved),
    events: f(s.events),
    eventSubject: (c, t) => f(s.eventSubject(c, t)),
    deadLetter: f(s.deadLetter),
    deadLetterSubject: (original) => `${f(s.deadLetter)}.${original}`,
    commands: f(s.commands),
    command: (service, verb) => f(s.command(service, verb)),
    control: (topic) => f(s.control(topic)),
    work: f(s.work),
    workSubject: (k, key) => f(s.workSubject(k, key)),
    streams: {
      leadIntake: stream(s.streams.leadIntake),
      events: stream(s.streams.events),
      deadLetters: stream(s.streams.deadLetters),
      work: stream(s.streams.work),
    },
  };
}

/** Commands whose request carries an `actor` (trusted only because of who may send them). */
export function commandsCarryingActor(): Array<{ service: CommandService; verb: string }> {
  const found: Array<{ service: CommandService; verb: string }> = [];
  for (const [service, verbs] of Object.entries(COMMANDS) as [CommandService, Record<string, { request: { shape?: Record<string, unknown> } }>][]) {
    for (const [verb, spec] of Object.entries(verbs)) if (spec.request.shape && 'actor' in spec.request.shape) found.push({ service, verb });
  }
  return found;
}

/** The identities (other than admin) allowed to send a command. */
export function sendersOf(service: CommandService, verb: string): BusIdentity[] {
  return BUS_IDENTITIES.filter((id) => {
    const sends = BUS_PERMISSIONS[id].sends as Record<string, readonly string[] | undefined> | undefined;
    return sends?.[service]?.includes(verb) === true;
  });
}

/** The identity that fills in command actors (the one that verified the operator). */
export const ACTOR_SENDING_IDENTITY = ACTOR_SENDER;

/**
 * Whether a NATS subject matches a permission pattern (`*` one token, `>` the rest), as
 * nats-server decides it. For tests and the docs check; the server is the enforcer.
 */
export function subjectMatches(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const t = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '>') return t.length > i;
    if (i >= t.length) return false;
    if (p[i] !== '*' && p[i] !== t[i]) return false;
  }
  return p.length === t.length;
}

/** Whether one of the patterns allows the subject. */
export function allows(patterns: readonly string[], subject: string): boolean {
  return patterns.some((p) => subjectMatches(p, subject));
}

/** Markers around the generated table in docs/security.md. */
export const BUS_TABLE_MARKERS = { start: '<!-- bus-permissions:start (generated by `npm run docs:bus` from libs/contracts/src/bus-permissions.ts) -->', end: '<!-- bus-permissions:end -->' } as const;

/**
 * The permission table as Markdown, for docs/security.md (production subjects; tests add
 * a namespace in front of each). A test fails when the document and the table differ.
 */
export function busPermissionsMarkdown(): string {
  const s = subjectsFor('');
  const code = (items: readonly string[]) => (items.length === 0 ? '—' : items.map((i) => `\`${i}\``).join(', '));
  const rows = BUS_IDENTITIES.map((id) => {
    const g: IdentityGrant = BUS_PERMISSIONS[id];
    if (g.admin) return `| \`${id}\` | ${g.purpose} | everything (\`>\`) | everything (\`>\`) | all |`;
    const sends = Object.entries(g.sends ?? {}).map(([service, verbs]) => `${service}: ${(verbs as string[]).join(', ')}`);
    const publishes = [...(g.publish?.(s) ?? []), ...(g.asksReaders ? [s.control('readers')] : []), ...(g.consumers ?? []).map((c) => s.deadLetterSubject(c.filter(s)))];
    const subscribes = [...(g.serves ?? []).map((service) => `${s.commands}.${service}.*`), ...(g.answersReaders ? [s.control('readers')] : [])];
    const jetstream = [
      ...(g.consumers ?? []).map((c) => `consumer \`${s.streams[c.stream]}/${c.durable}\``),
      ...(g.readsStreamInfo ? ['stream info'] : []),
      ...(g.readsMessagesOf ?? []).map((k) => `get/delete messages of \`${s.streams[k]}\``),
    ];
    const publishCell = [...(sends.length ? [`commands ${sends.map((x) => `\`${x}\``).join('; ')}`] : []), ...(publishes.length ? [code(publishes)] : [])].join('; ') || '—';
    return `| \`${id}\` | ${g.purpose} | ${publishCell} | ${code(subscribes)} | ${jetstream.join(', ') || '—'} |`;
  });
  return [
    '| identity | purpose | may publish (and request) | may subscribe to (besides its own inbox) | JetStream |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
  ].join('\n');
}
