/**
 * The AsyncAPI 3 document of Fairlead's NATS traffic, made from the zod contracts
 * (@fairlead/contracts) and this library's wire conventions (reply envelope, dead-letter
 * headers, streams): `lead.approved` from upstream, every command with its request and
 * reply, every distribution event as the relay publishes it, and dead letters.
 * `npm run contracts:asyncapi` writes it to libs/messaging/asyncapi.json; a test keeps the
 * committed file equal to what this function makes, and parses it with @asyncapi/parser.
 */
import { z } from 'zod';
import { COMMANDS, DISTRIBUTION_EVENTS, LeadApprovedV1, RELAY_HEADERS, RelayedEvent, SUBJECTS, type DistributionEventType } from '@fairlead/contracts';
import { DeadLetterHeaders } from './consumer/dead-letter';
import { fairleadStreams } from './fairlead-streams';
import { ReplyEnvelope } from './request-reply';

type Json = Record<string, unknown>;

/**
 * The stream category (`<category>-<id>`) each distribution event is stored under, which
 * the relay makes the second token of its subject. A Record over every event type: a new
 * event does not compile until it has one.
 */
export const EVENT_CATEGORIES: Readonly<Record<DistributionEventType, string>> = {
  NicheCreated: 'niche',
  NicheUpdated: 'niche',
  CompetitionLevelAdded: 'niche',
  CompetitionLevelUpdated: 'niche',
  StartLevelClaimed: 'niche',
  ProviderRegistered: 'provider',
  ProviderUpdated: 'provider',
  WalletToppedUp: 'wallet',
  WalletCharged: 'wallet',
  WalletChargeDeclined: 'wallet',
  WalletRefunded: 'wallet',
  SubscriptionCreated: 'subscription',
  SubscriptionChanged: 'subscription',
  SubscriptionStatusChanged: 'subscription',
  LeadApproved: 'lead',
  LeadRejected: 'lead',
  DistributionRequested: 'lead',
  DistributionStarted: 'lead',
  ProvidersSelected: 'lead',
  PicksWithdrawn: 'lead',
  LeadAssigned: 'lead',
  ProviderSkipped: 'lead',
  DistributionCompleted: 'lead',
  DistributionFailed: 'lead',
  DeadLetterRedriven: 'deadletter',
  DeadLetterDiscarded: 'deadletter',
  ProjectionRetryRequested: 'projection',
  ProjectionEventParked: 'projection',
};

/** JSON Schema (draft-07, which AsyncAPI's schema format extends) of a zod schema. */
function schemaOf(schema: z.ZodType, io: 'input' | 'output'): Json {
  const { $schema: _drop, ...json } = z.toJSONSchema(schema, { io, target: 'draft-7', unrepresentable: 'any' }) as Json;
  return json;
}

const stringHeaders = (headers: Record<string, string>, required: readonly string[] = []): Json => ({
  type: 'object',
  properties: Object.fromEntries(Object.entries(headers).map(([name, description]) => [name, { type: 'string', description }])),
  ...(required.length > 0 ? { required: [...required] } : {}),
});

const TRACE_HEADERS = { traceparent: 'W3C trace context of the sender (when tracing is on)', tracestate: 'W3C trace state (when tracing is on)' };

/** A reference to a channel (top level) or to a reusable message or schema (components). */
const ref = (kind: 'channels' | 'messages' | 'schemas', name: string) => ({ $ref: kind === 'channels' ? `#/channels/${name}` : `#/components/${kind}/${name}` });

/** Builds the document. Deterministic: the same contracts give the same bytes. */
export function asyncApiDocument(): Json {
  const subjects = SUBJECTS;
  const streams = Object.fromEntries(fairleadStreams(subjects).map((s) => [s.name, s.description ?? '']));
  const channels: Json = {};
  const operations: Json = {};
  const messages: Json = {};
  const schemas: Json = {};

  // lead.approved: the public contract upstream systems publish.
  messages['lead.approved.v1'] = {
    name: 'lead.approved',
    title: 'An approved lead (v1)',
    summary: 'Published by upstream systems; intake validates it, records it and requests its distribution. A malformed one is rejected with its reasons and dead-lettered.',
    payload: schemaOf(LeadApprovedV1, 'input'),
    headers: stringHeaders({ 'Nats-Msg-Id': 'the lead id, so that JetStream drops a re-publish within its duplicate window', ...TRACE_HEADERS }),
  };
  channels.leadApproved = {
    address: subjects.leadApproved,
    title: 'lead.approved',
    description: `JetStream stream ${subjects.streams.leadIntake}: ${streams[subjects.streams.leadIntake]}`,
    messages: { leadApproved: ref('messages', 'lead.approved.v1') },
  };
  operations.receiveLeadApproved = {
    action: 'receive',
    channel: ref('channels', 'leadApproved'),
    summary: 'Intake consumes approved leads (durable consumer intake-lead-approved).',
    messages: [{ $ref: '#/channels/leadApproved/messages/leadApproved' }],
  };

  // Commands: request/reply on fairlead.cmd.<service>.<verb>; replies go to the requester's inbox.
  schemas.TraceHeaders = stringHeaders(TRACE_HEADERS);
  schemas.ReplyError = schemaOf((ReplyEnvelope.options[1] as z.ZodObject).shape.error as z.ZodType, 'output');
  const replyMessages: Json = {};
  for (const [service, verbs] of Object.entries(COMMANDS)) {
    for (const [verb, entry] of Object.entries(verbs as Record<string, { request: z.ZodType; reply: z.ZodType }>)) {
      const id = `${service}.${verb}`;
      const key = `cmd_${service}_${verb}`;
      messages[`${id}.request`] = { name: `${id}.request`, title: `${service} ${verb}: request`, payload: schemaOf(entry.request, 'input'), headers: ref('schemas', 'TraceHeaders') };
      messages[`${id}.reply`] = {
        name: `${id}.reply`,
        title: `${service} ${verb}: reply`,
        summary: 'The reply envelope: `{ ok: true, value }` or `{ ok: false, error: { code, message, issues? } }`.',
        payload: { oneOf: [{ type: 'object', required: ['ok', 'value'], properties: { ok: { const: true }, value: schemaOf(entry.reply, 'output') } }, { type: 'object', required: ['ok', 'error'], properties: { ok: { const: false }, error: ref('schemas', 'ReplyError') } }] },
      };
      replyMessages[`${key}_reply`] = ref('messages', `${id}.reply`);
      channels[key] = {
        address: subjects.command(service, verb),
        title: `${service} ${verb}`,
        description: `Requests to the ${service} service (a queue group: one instance answers each).`,
        messages: { request: ref('messages', `${id}.request`) },
      };
      operations[key] = {
        action: 'receive',
        channel: ref('channels', key),
        summary: `The ${service} service answers ${verb}.`,
        messages: [{ $ref: `#/channels/${key}/messages/request` }],
        reply: { channel: ref('channels', 'commandReplies'), messages: [{ $ref: `#/channels/commandReplies/messages/${key}_reply` }] },
      };
    }
  }
  channels.commandReplies = {
    address: null,
    title: 'command replies',
    description: "The requester's inbox (`_INBOX.<id>`, chosen per request by the NATS client).",
    messages: replyMessages,
  };

  // Events: every stored event, published by the relay on fairlead.events.<category>.<Type>.
  const eventHeaders = stringHeaders(
    {
      'Nats-Msg-Id': 'the event id: JetStream drops a re-publish within its duplicate window',
      [RELAY_HEADERS.eventType]: 'the event type',
      [RELAY_HEADERS.stream]: 'the event-store stream (`<category>-<id>`)',
      [RELAY_HEADERS.globalPosition]: 'position in the event store (decimal)',
      ...TRACE_HEADERS,
    },
    ['Nats-Msg-Id', RELAY_HEADERS.eventType, RELAY_HEADERS.stream, RELAY_HEADERS.globalPosition],
  );
  schemas.RelayedEventHeaders = eventHeaders;
  const eventsDescription = `JetStream stream ${subjects.streams.events}: ${streams[subjects.streams.events]}`;
  for (const [type, data] of Object.entries(DISTRIBUTION_EVENTS) as [DistributionEventType, z.ZodType][]) {
    const key = `event_${type}`;
    messages[type] = {
      name: type,
      title: type,
      headers: ref('schemas', 'RelayedEventHeaders'),
      payload: schemaOf(RelayedEvent.extend({ type: z.literal(type), data }), 'output'),
    };
    channels[key] = { address: subjects.eventSubject(EVENT_CATEGORIES[type], type), title: type, description: eventsDescription, messages: { [type]: ref('messages', type) } };
    operations[key] = { action: 'send', channel: ref('channels', key), summary: `The relay publishes each stored ${type}.`, messages: [{ $ref: `#/channels/${key}/messages/${type}` }] };
  }
  // Events of other stores sharing the event store (the ticket workflow's) travel the same way; their data is the owner's.
  messages.OtherEvent = { name: 'RelayedEvent', title: 'Any other stored event', headers: ref('schemas', 'RelayedEventHeaders'), payload: schemaOf(RelayedEvent, 'output') };
  channels.otherEvents = {
    address: `${subjects.events}.{category}.{eventType}`,
    title: 'other events',
    description: `${eventsDescription} Events that are not distribution events (e.g. the ticket workflow's); their data is described by the service that owns them.`,
    parameters: { category: { description: 'the event-store stream category (`ticket`, `worker`, …)' }, eventType: { description: 'the event type' } },
    messages: { OtherEvent: ref('messages', 'OtherEvent') },
  };
  operations.otherEvents = { action: 'send', channel: ref('channels', 'otherEvents'), summary: 'The relay publishes every other stored event.', messages: [{ $ref: '#/channels/otherEvents/messages/OtherEvent' }] };

  // Dead letters: a consumer gives up on a message; the original payload and headers, plus the reasons.
  const D = DeadLetterHeaders;
  messages.deadLetter = {
    name: 'dead letter',
    title: 'A message a consumer gave up on',
    summary: 'The original payload and headers (minus Nats-*), plus why and where it came from. Operators list, redrive or discard them through the operator API.',
    headers: stringHeaders(
      {
        [D.Reason]: 'exhausted (every attempt failed), permanent (a failure retrying cannot fix) or malformed (failed validation)',
        [D.Error]: 'the last error, for people',
        [D.Issues]: 'malformed messages only: JSON array of validation issues `{ path, code, message }`',
        [D.Attempts]: 'deliveries made',
        [D.OriginalSubject]: 'subject the message was published on',
        [D.OriginalStream]: 'stream it was consumed from',
        [D.OriginalSequence]: 'its sequence in that stream',
        [D.OriginalMsgId]: 'its Nats-Msg-Id, when it had one',
        [D.Consumer]: 'the durable consumer that gave up',
        [D.FirstFailureAt]: 'ISO 8601 time of the first failure this consumer saw',
        [D.LastFailureAt]: 'ISO 8601 time of the last failure',
      },
      [D.Reason, D.Error, D.Attempts, D.OriginalSubject, D.OriginalStream, D.OriginalSequence, D.Consumer, D.FirstFailureAt, D.LastFailureAt],
    ),
    payload: { description: 'The original message body, unchanged (any bytes; usually JSON of the original contract).' },
  };
  channels.deadLetters = {
    address: `${subjects.deadLetter}.{originalSubject}`,
    title: 'dead letters',
    description: `JetStream stream ${subjects.streams.deadLetters}: ${streams[subjects.streams.deadLetters]}`,
    parameters: { originalSubject: { description: 'the subject the message was consumed from (it spans several tokens)' } },
    messages: { deadLetter: ref('messages', 'deadLetter') },
  };
  operations.deadLetters = {
    action: 'send',
    channel: ref('channels', 'deadLetters'),
    summary: 'A consumer (intake, fairness, notification) dead-letters a message it cannot process.',
    messages: [{ $ref: '#/channels/deadLetters/messages/deadLetter' }],
  };

  return {
    asyncapi: '3.1.0',
    info: {
      title: 'Fairlead messaging',
      version: '1.0.0',
      description:
        'The NATS subjects between Fairlead and its upstream systems and between its services. Subjects are shown without a namespace (NATS_NAMESPACE prefixes every one, e.g. `test.lead.approved`). JSON payloads; events and commands are validated against these schemas by their consumers.',
      license: { name: 'MIT', url: 'https://opensource.org/licenses/MIT' },
    },
    defaultContentType: 'application/json',
    servers: {
      local: { host: '127.0.0.1:42229', protocol: 'nats', description: 'The nats-server `npm start` runs (FAIRLEAD_NATS_PORT); set NATS_URL to use another.' },
    },
    channels,
    operations,
    components: { messages, schemas },
  };
}

/** The exact text of the committed file (stable formatting, trailing newline). */
export function renderAsyncApi(): string {
  return `${JSON.stringify(asyncApiDocument(), null, 2)}\n`;
}
