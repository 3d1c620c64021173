/**
 * Who may do what in Fairlead's PostgreSQL database: one login role per service (and one
 * for the operator CLI), each with rights on its own schema and on the part of the event
 * store it uses, nothing else. This table is the one place the rights are written down;
 * the bootstrap (database-bootstrap.ts) grants exactly this, the security tests walk it
 * (tests/security/database-roles.int.test.ts) and docs/security.md#database explains it.
 */

/** Schema of the event store (the services' default EVENT_STORE_SCHEMA). */
export const EVENT_STORE_SCHEMA = 'eventstore';

/**
 * Owns the event store's tables and functions; nobody logs in as it. `append_batch` runs
 * with its rights (SECURITY DEFINER), so the services can append without any right to
 * write the tables themselves.
 */
export const EVENT_STORE_OWNER = 'fairlead_eventstore';

/**
 * - `append`: read the log (SELECT on events and streams, EXECUTE read_page) and append
 *   through `append_batch`;
 * - `read`: read the log only.
 * No role may INSERT, UPDATE or DELETE the event store's tables: the log is append-only
 * and every append goes through the function's version and idempotency checks.
 */
export type EventStoreAccess = 'append' | 'read';

export interface DatabaseRoleGrant {
  /** The login role. */
  role: string;
  /** The process that logs in as it: a service's folder under services/, or a tool. */
  usedBy: string;
  /** Schemas it owns: its read models and bookkeeping, migrated by the service itself. */
  schemas: readonly string[];
  eventStore: EventStoreAccess;
  /**
   * Other services' schemas it may read: SELECT on their tables, those there now and those
   * their owner makes later (default privileges), never more.
   */
  reads: readonly string[];
  /** May create schemas in the database (CREATE on it): the replay's scratch and shadow schemas. */
  createSchemas: boolean;
  /** Roles whose rights it has too (INHERIT), and may act as (SET ROLE). */
  memberOf: readonly string[];
  /** Why it needs what it has (docs/security.md shows it). */
  why: string;
}

export const DATABASE_ROLES: readonly DatabaseRoleGrant[] = Object.freeze([
  {
    role: 'fairlead_intake',
    usedBy: 'intake',
    schemas: [],
    eventStore: 'append',
    reads: [],
    createSchemas: false,
    memberOf: [],
    why: 'records LeadApproved and DistributionRequested; keeps no tables of its own',
  },
  {
    role: 'fairlead_rotation',
    usedBy: 'rotation',
    schemas: ['rotation'],
    eventStore: 'append',
    reads: [],
    createSchemas: false,
    memberOf: [],
    why: 'niches, levels and start-level claims',
  },
  {
    role: 'fairlead_fairness',
    usedBy: 'fairness',
    schemas: ['fairness'],
    eventStore: 'append',
    reads: [],
    createSchemas: false,
    memberOf: [],
    why: 'distribution decisions, subscriptions, its served view',
  },
  {
    role: 'fairlead_billing',
    usedBy: 'billing',
    schemas: ['billing'],
    eventStore: 'append',
    reads: [],
    createSchemas: false,
    memberOf: [],
    why: 'providers, wallets, charges',
  },
  {
    role: 'fairlead_notification',
    usedBy: 'notification',
    schemas: ['notification'],
    eventStore: 'read',
    reads: [],
    createSchemas: false,
    memberOf: [],
    why: 'its outbox, directory projection and mail catcher; reacts to events, appends none',
  },
  {
    role: 'fairlead_operator_api',
    usedBy: 'operator-api',
    schemas: ['operator'],
    eventStore: 'append',
    reads: [],
    createSchemas: false,
    memberOf: [],
    why: "the operator read models; appends operators' projection decisions (retry, park)",
  },
  {
    role: 'fairlead_ticket_workflow',
    usedBy: 'ticket-workflow',
    schemas: ['ticket_workflow'],
    eventStore: 'append',
    reads: [],
    createSchemas: false,
    memberOf: [],
    why: 'tickets and template distributions (also the `tickets` CLI)',
  },
  {
    role: 'fairlead_relay',
    usedBy: 'relay',
    schemas: ['relay'],
    eventStore: 'read',
    reads: [],
    createSchemas: false,
    memberOf: [],
    why: 'publishes the log to JetStream; keeps its checkpoint',
  },
  {
    role: 'fairlead_operator_cli',
    usedBy: 'fairlead CLI (verify, replay, audit, events tail)',
    schemas: [],
    // Its own needs are reads; it has the operator API's rights (appends included) as their member.
    eventStore: 'append',
    reads: ['notification'],
    createSchemas: true,
    memberOf: ['fairlead_operator_api'],
    why: "rebuilds the operator read models (it acts as their owner) in scratch and shadow schemas of its own; audit reads the emails notification queued for a lead (its outbox)",
  },
]);

/** The role a service (its folder under services/) logs in as, or the role itself when given one of the table; undefined otherwise. */
export function databaseRoleOf(serviceOrRole: string): string | undefined {
  return DATABASE_ROLES.find((r) => r.usedBy === serviceOrRole || r.role === serviceOrRole)?.role;
}

/** The operator CLI's role (`fairlead verify/replay/audit`). */
export const OPERATOR_CLI_ROLE = 'fairlead_operator_cli';

/** The grants table as the markdown table of docs/security.md#database (a unit test keeps the two equal). */
export function grantsMarkdown(roles: readonly DatabaseRoleGrant[] = DATABASE_ROLES): string {
  const rows = roles.map((r) => {
    const eventStore = r.eventStore === 'append' ? 'read, append (`append_batch`)' : 'read';
    const extra = [
      ...r.reads.map((s) => `SELECT on \`${s}\``),
      ...(r.createSchemas ? ['CREATE on the database (schemas of its own)'] : []),
      ...r.memberOf.map((m) => `member of \`${m}\``),
    ];
    return `| \`${r.role}\` | ${r.usedBy} | ${r.schemas.map((s) => `\`${s}\``).join(', ') || '—'} | ${eventStore} | ${extra.join('; ') || '—'} | ${r.why} |`;
  });
  return ['| role | used by | owns schema | event store | more | why |', '| --- | --- | --- | --- | --- | --- |', ...rows].join('\n');
}
