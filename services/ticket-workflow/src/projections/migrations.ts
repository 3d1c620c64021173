import type { Migration } from '@fairlead/event-store';

/** The read models' tables, versioned: change by adding a migration, never by editing one. */
export function readModelMigrations(s: string): Migration[] {
  return [
    {
      version: 1,
      name: 'ticket workflow read models',
      sql: `
create table ${s}.projects (
  project_id text primary key,
  key text not null,
  name text not null,
  directory text,
  ticket_count integer not null default 0,
  registered_at timestamptz not null,
  version integer not null
);
create index projects_by_key on ${s}.projects (key);
create index projects_by_directory on ${s}.projects (directory);

create table ${s}.tickets (
  ticket_id text primary key,
  project_id text not null,
  number integer not null,
  title text not null,
  priority text not null,
  execution_plan jsonb not null,
  completed_stages integer not null default 0,
  last_completed_stage text not null,
  state text not null,
  closed_as text,
  queued_for text,
  source_distribution_id text,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  closed_at timestamptz,
  version integer not null
);
create index tickets_by_project on ${s}.tickets (project_id, state, created_at);

create table ${s}.tasks (
  task_id text primary key,
  ticket_id text not null,
  worker_type text not null,
  status text not null,
  worker_id text,
  queued_at timestamptz not null,
  taken_at timestamptz,
  done_at timestamptz,
  -- The ticket stream version last applied to this row: replays at or below it are ignored.
  ticket_version integer not null,
  transaction_id numeric(20) not null,
  global_position bigint not null
);
create index tasks_queue on ${s}.tasks (worker_type, status, transaction_id, global_position);
create index tasks_by_ticket on ${s}.tasks (ticket_id);

create table ${s}.coordinator_events (
  event_id bigint primary key,
  event_type text not null,
  ticket_id text,
  worker_id text,
  worker_type text,
  stage text,
  stage_number integer,
  reason text,
  created_at timestamptz not null,
  processed boolean not null default false,
  processed_at timestamptz,
  transaction_id numeric(20) not null
);
create index coordinator_events_order on ${s}.coordinator_events (processed, transaction_id, event_id);

create table ${s}.workers (
  worker_id text primary key,
  worker_type text not null,
  status text not null,
  queue_name text not null,
  registered_at timestamptz not null,
  updated_at timestamptz not null,
  version integer not null
);
create index workers_by_type on ${s}.workers (worker_type, status);

create table ${s}.distributions (
  distribution_id text primary key,
  template_name text not null,
  template_version text not null,
  status text not null,
  force boolean not null,
  base_dir text,
  targets integer not null,
  succeeded integer not null default 0,
  failed integer not null default 0,
  skipped integer not null default 0,
  started_at timestamptz not null,
  finished_at timestamptz,
  rolled_back_at timestamptz,
  rollback jsonb,
  version integer not null
);
create index distributions_by_template on ${s}.distributions (template_name, started_at);

create table ${s}.distribution_projects (
  distribution_id text not null,
  seq integer not null,
  target text not null,
  project text not null,
  project_id text,
  directory text,
  status text not null,
  file text,
  path text,
  ticket_id text,
  reason text,
  at timestamptz not null,
  primary key (distribution_id, target)
);
create index distribution_projects_by_target on ${s}.distribution_projects (target, status);
`,
    },
    {
      version: 2,
      name: 'keys, project changes, task leases, dependencies, worker types',
      sql: `
alter table ${s}.projects add column deleted_at timestamptz;
alter table ${s}.projects add column previous_keys jsonb not null default '[]';

alter table ${s}.tasks add column last_activity_at timestamptz;
create index tasks_taken on ${s}.tasks (status, worker_id) where status = 'taken';

-- One row per edge ever added; a removed edge stays with active = false, so replays stay idempotent.
create table ${s}.ticket_dependencies (
  ticket_id text not null,
  depends_on text not null,
  active boolean not null,
  changed_at timestamptz not null,
  version integer not null,
  primary key (ticket_id, depends_on)
);
create index ticket_dependencies_by_dependency on ${s}.ticket_dependencies (depends_on) where active;

create table ${s}.worker_types (
  name text primary key,
  description text not null,
  instructions text,
  deleted boolean not null default false,
  created_at timestamptz not null,
  updated_at timestamptz not null,
  version integer not null
);
`,
    },
  ];
}
