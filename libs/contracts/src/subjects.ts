/**
 * Every NATS subject and JetStream stream name, in one place.
 *
 * A namespace prefixes all of them; production uses none, and each test file uses its
 * own so that files share one server without seeing each other's messages.
 */
export interface Subjects {
  namespace: string;
  /** Upstream systems publish approved leads here (the public contract). */
  leadApproved: string;
  /** Events relayed from the event store: `<events>.<category>.<EventType>`. */
  events: string;
  eventSubject(category: string, eventType: string): string;
  /** Dead letters: `<dlq>.<original subject>`. */
  deadLetter: string;
  deadLetterSubject(originalSubject: string): string;
  /** Commands and request/reply endpoints: `<commands>.<service>.<verb>`. */
  commands: string;
  command(service: string, verb: string): string;
  /** Operational requests every process answers (no queue group): `<control>.<topic>`, e.g. the status of its log readers. */
  control(topic: string): string;
  /** JetStream stream names. */
  streams: {
    /** Intake of upstream `lead.approved`. */
    leadIntake: string;
    /** Every stored event, published by the relay. */
    events: string;
    /** Messages that failed all attempts or failed validation. */
    deadLetters: string;
    /** Durable work items (e.g. distribution requests). */
    work: string;
  };
  /** Durable work subjects: `<work>.<kind>.<key>` (the key gives per-key ordering). */
  work: string;
  workSubject(kind: string, key: string): string;
}

const TOKEN = /^[A-Za-z0-9_-]+$/;

function token(value: string, what: string): string {
  if (!TOKEN.test(value)) throw new Error(`invalid ${what} for a NATS subject token: ${JSON.stringify(value)}`);
  return value;
}

export function subjectsFor(namespace = ''): Subjects {
  if (namespace !== '') token(namespace, 'namespace');
  const p = (s: string) => (namespace ? `${namespace}.${s}` : s);
  const n = (s: string) => (namespace ? `${namespace}_${s}` : s);
  const events = p('fairlead.events');
  const deadLetter = p('fairlead.dlq');
  const commands = p('fairlead.cmd');
  const work = p('fairlead.work');
  const control = p('fairlead.ctl');
  return Object.freeze({
    namespace,
    leadApproved: p('lead.approved'),
    events,
    eventSubject: (category: string, eventType: string) => `${events}.${token(category, 'category')}.${token(eventType, 'event type')}`,
    deadLetter,
    deadLetterSubject: (originalSubject: string) => `${deadLetter}.${originalSubject}`,
    commands,
    command: (service: string, verb: string) => `${commands}.${token(service, 'service')}.${token(verb, 'verb')}`,
    control: (topic: string) => `${control}.${token(topic, 'control topic')}`,
    work,
    workSubject: (kind: string, key: string) => `${work}.${token(kind, 'work kind')}.${token(key, 'work key')}`,
    streams: Object.freeze({
      leadIntake: n('LEAD_INTAKE'),
      events: n('FAIRLEAD_EVENTS'),
      deadLetters: n('FAIRLEAD_DLQ'),
      work: n('FAIRLEAD_WORK'),
    }),
  });
}

/** The production subjects (no namespace). */
export const SUBJECTS = subjectsFor();

/** The category of a stream name: the part before the first '-' (`lead-42` → `lead`). */
export function streamCategory(stream: string): string {
  const dash = stream.indexOf('-');
  return dash === -1 ? stream : stream.slice(0, dash);
}
