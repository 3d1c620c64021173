import type { Apply, Db } from '../shared';
import { asWorkflowEvent, claimVersion } from '../shared';

/** Read model `projects`: registered projects, their keys, directories and ticket counts. */
export const applyToProjects: Apply = async (stored, db, s) => {
  if (!stored.stream.startsWith('project-')) return;
  const event = asWorkflowEvent(stored);
  const projectId = stored.stream.slice('project-'.length);
  if (event.type === 'ProjectRegistered') {
    await db.query(
      `insert into ${s}.projects (project_id, key, name, directory, registered_at, version)
       values ($1, $2, $3, $4, $5, $6) on conflict (project_id) do nothing`,
      [projectId, event.data.key, event.data.name, event.data.directory, event.data.at, stored.streamVersion],
    );
    return;
  }
  if (!(await claimVersion(db, s, 'projects', 'project_id', projectId, stored.streamVersion))) return;
  if (event.type === 'ProjectTicketNumberAssigned') {
    await db.query(`update ${s}.projects set ticket_count = $2 where project_id = $1`, [projectId, event.data.number]);
  }
};

export interface ProjectRow {
  project_id: string;
  key: string;
  name: string;
  directory: string | null;
  ticket_count: number;
  registered_at: Date;
}

const COLUMNS = 'project_id, key, name, directory, ticket_count, registered_at';

export async function queryProjects(db: Db, s: string): Promise<ProjectRow[]> {
  return (await db.query<ProjectRow>(`select ${COLUMNS} from ${s}.projects order by project_id`)).rows;
}

export async function findProjectsByKey(db: Db, s: string, key: string): Promise<ProjectRow[]> {
  return (await db.query<ProjectRow>(`select ${COLUMNS} from ${s}.projects where key = $1`, [key])).rows;
}

export async function findProjectByDirectory(db: Db, s: string, directory: string): Promise<ProjectRow | undefined> {
  return (await db.query<ProjectRow>(`select ${COLUMNS} from ${s}.projects where directory = $1 order by registered_at limit 1`, [directory])).rows[0];
}

export async function findProjects(db: Db, s: string, ids: readonly string[]): Promise<ProjectRow[]> {
  return (await db.query<ProjectRow>(`select ${COLUMNS} from ${s}.projects where project_id = any($1) order by project_id`, [ids])).rows;
}
