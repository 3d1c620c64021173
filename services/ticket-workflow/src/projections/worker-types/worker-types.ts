import type { Apply, Db } from '../shared';
import { asWorkflowEvent, claimVersion } from '../shared';

/** Read model `worker_types`: managed worker types with their descriptions and instructions. */
export const applyToWorkerTypes: Apply = async (stored, db, s) => {
  if (!stored.stream.startsWith('workertype-')) return;
  const event = asWorkflowEvent(stored);
  const name = stored.stream.slice('workertype-'.length);
  if (event.type === 'WorkerTypeCreated') {
    // Created again after a deletion: the same row comes back.
    await db.query(
      `insert into ${s}.worker_types (name, description, instructions, created_at, updated_at, version) values ($1, $2, $3, $4, $4, $5)
       on conflict (name) do update set description = excluded.description, instructions = excluded.instructions, deleted = false,
         created_at = excluded.created_at, updated_at = excluded.updated_at, version = excluded.version
       where ${s}.worker_types.version < excluded.version`,
      [name, event.data.description, event.data.instructions, event.data.at, stored.streamVersion],
    );
    return;
  }
  if (!(await claimVersion(db, s, 'worker_types', 'name', name, stored.streamVersion))) return;
  if (event.type === 'WorkerTypeUpdated') {
    await db.query(`update ${s}.worker_types set description = $2, instructions = $3, updated_at = $4 where name = $1`, [name, event.data.description, event.data.instructions, event.data.at]);
  } else if (event.type === 'WorkerTypeDeleted') {
    await db.query(`update ${s}.worker_types set deleted = true, updated_at = $2 where name = $1`, [name, event.data.at]);
  }
};

export interface WorkerTypeRow {
  name: string;
  description: string;
  instructions: string | null;
  created_at: Date;
  updated_at: Date;
}

export async function queryWorkerTypes(db: Db, s: string): Promise<WorkerTypeRow[]> {
  return (await db.query<WorkerTypeRow>(`select name, description, instructions, created_at, updated_at from ${s}.worker_types where not deleted order by name`)).rows;
}
