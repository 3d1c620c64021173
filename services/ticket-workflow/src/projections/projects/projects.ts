import type { Apply, Db } from '../shared';
import { asWorkflowEvent, claimVersion } from '../shared';

/** Read model `projects`: registered projects, their keys, directories, ticket counts, deletion. */
export const applyToProjects: Apply = async (stored, db, s) => {
  if (!stored.stream.startsWith('project-')) return;
  const event = asWorkflowEvent(stored);
  const projectId = stored.stream.slice('project-'.length);
  if (event.type === 'ProjectRegistered') {
    // A deleted project registered again comes back in its row (its count continues).
    await db.query(
      `insert into ${s}.projects (project_id, key, name, directory, registered_at, version)
       values ($1, $2, $3, $4, $5, $6)
       on conflict (project_id) do update set key = excluded.key, name = excluded.name, directory = excluded.directory, deleted_at = null,
         previous_keys = case when ${s}.projects.key = excluded.key or ${s}.projects.previous_keys ? ${s}.projects.key then ${s}.projects.previous_keys
                              else ${s}.projects.previous_keys || to_jsonb(${s}.projects.key) end,
         version = excluded.version
       where ${s}.projects.version < excluded.version`,
      [projectId, event.data.key, event.data.name, event.data.directory, event.data.at, stored.streamVersion],
    );
    return;
  }
  if (!(await claimVersion(db, s, 'projects', 'project_id', projectId, stored.streamVersion))) return;
  switch (event.type) {
    case 'ProjectTicketNumberAssigned':
      await db.query(`update ${s}.projects set ticket_count = greatest(ticket_count, $2) where project_id = $1`, [projectId, event.data.number]);
      return;
    case 'ProjectUpdated':
      await db.query(`update ${s}.projects set name = $2, directory = $3 where project_id = $1`, [projectId, event.data.name, event.data.directory]);
      return;
    case 'ProjectKeyChanged':
      await db.query(`update ${s}.projects set key = $2, previous_keys = previous_keys || to_jsonb($3::text) where project_id = $1`, [projectId, event.data.to, event.data.from]);
      return;
    case 'ProjectDeleted':
      await db.query(`update ${s}.projects set deleted_at = $2 where project_id = $1`, [projectId, event.data.at]);
      return;
    default:
      return;
  }
};

export interface ProjectRow {
  project_id: string;
  key: string;
  previous_keys: string[];
  name: string;
  directory: string | null;
  ticket_count: number;
  registered_at: Date;
  deleted_at: Date | null;
}

const COLUMNS = 'project_id, key, previous_keys, name, directory, ticket_count, registered_at, deleted_at';

export async function queryProjects(db: Db, s: string, includeDeleted = false): Promise<ProjectRow[]> {
  return (await db.query<ProjectRow>(`select ${COLUMNS} from ${s}.projects where $1 or deleted_at is null order by project_id`, [includeDeleted])).rows;
}

export async function findProject(db: Db, s: string, projectId: string): Promise<ProjectRow | undefined> {
  return (await db.query<ProjectRow>(`select ${COLUMNS} from ${s}.projects where project_id = $1`, [projectId])).rows[0];
}

/** Projects holding the key now or before (a key is never given to another project). */
export async function findProjectsByKey(db: Db, s: string, key: string): Promise<ProjectRow[]> {
  return (await db.query<ProjectRow>(`select ${COLUMNS} from ${s}.projects where key = $1 or previous_keys ? $1`, [key])).rows;
}

export async function findProjectByDirectory(db: Db, s: string, directory: string): Promise<ProjectRow | undefined> {
  return (await db.query<ProjectRow>(`select ${COLUMNS} from ${s}.projects where directory = $1 and deleted_at is null order by registered_at limit 1`, [directory])).rows[0];
}

export async function findProjects(db: Db, s: string, ids: readonly string[]): Promise<ProjectRow[]> {
  return (await db.query<ProjectRow>(`select ${COLUMNS} from ${s}.projects where project_id = any($1) and deleted_at is null order by project_id`, [ids])).rows;
}
