import type { Apply, Db } from '../shared';
import { asWorkflowEvent, claimVersion } from '../shared';

/** Read model `workers`: registered workers by type and status. */
export const applyToWorkers: Apply = async (stored, db, s) => {
  if (!stored.stream.startsWith('worker-')) return;
  const event = asWorkflowEvent(stored);
  const workerId = stored.stream.slice('worker-'.length);
  if (event.type === 'WorkerRegistered') {
    await db.query(
      `insert into ${s}.workers (worker_id, worker_type, status, queue_name, registered_at, updated_at, version)
       values ($1, $2, $3, $4, $5, $5, $6) on conflict (worker_id) do nothing`,
      [workerId, event.data.workerType, event.data.status, event.data.queueName, event.data.at, stored.streamVersion],
    );
    return;
  }
  if (!(await claimVersion(db, s, 'workers', 'worker_id', workerId, stored.streamVersion))) return;
  if (event.type === 'WorkerStatusChanged') {
    await db.query(`update ${s}.workers set status = $2, updated_at = $3 where worker_id = $1`, [workerId, event.data.to, event.data.at]);
  }
};

export interface WorkerRow {
  worker_id: string;
  worker_type: string;
  status: string;
  queue_name: string;
  registered_at: Date;
  updated_at: Date;
}

export async function queryWorkers(db: Db, s: string, filter: { workerType?: string; status?: string }): Promise<WorkerRow[]> {
  const { rows } = await db.query<WorkerRow>(
    `select worker_id, worker_type, status, queue_name, registered_at, updated_at from ${s}.workers
      where ($1::text is null or worker_type = $1) and ($2::text is null or status = $2)
      order by worker_type, registered_at, worker_id`,
    [filter.workerType ?? null, filter.status ?? null],
  );
  return rows;
}
