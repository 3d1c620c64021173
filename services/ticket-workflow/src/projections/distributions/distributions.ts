import type { Apply, Db } from '../shared';
import { asWorkflowEvent, claimVersion } from '../shared';

/**
 * Read model `distributions` and `distribution_projects`: the history of template
 * distributions (which projects got which file and ticket, template version), and the
 * lookup behind "already distributed to this project".
 */
export const applyToDistributions: Apply = async (stored, db, s) => {
  if (!stored.stream.startsWith('template-distribution-')) return;
  const event = asWorkflowEvent(stored);
  const id = stored.stream.slice('template-distribution-'.length);
  if (event.type === 'TemplateDistributionStarted') {
    const d = event.data;
    await db.query(
      `insert into ${s}.distributions (distribution_id, template_name, template_version, status, force, base_dir, targets, started_at, version)
       values ($1, $2, $3, 'running', $4, $5, $6, $7, $8) on conflict (distribution_id) do nothing`,
      [id, d.template.name, d.template.version, d.force, d.baseDir, d.targets, d.at, stored.streamVersion],
    );
    return;
  }
  if (!(await claimVersion(db, s, 'distributions', 'distribution_id', id, stored.streamVersion))) return;
  const project = (status: string, d: { target: string; project: string; projectId: string | null; directory: string | null; at: string }, extra: { file?: string | null; path?: string | null; ticketId?: string | null; reason?: string | null }) =>
    db.query(
      `insert into ${s}.distribution_projects (distribution_id, seq, target, project, project_id, directory, status, file, path, ticket_id, reason, at)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) on conflict (distribution_id, target) do nothing`,
      [id, stored.streamVersion, d.target, d.project, d.projectId, d.directory, status, extra.file ?? null, extra.path ?? null, extra.ticketId ?? null, extra.reason ?? null, d.at],
    );
  switch (event.type) {
    case 'TemplateDistributedToProject':
      await project('success', event.data, { file: event.data.file?.relativePath, path: event.data.file?.path, ticketId: event.data.ticketId });
      await db.query(`update ${s}.distributions set succeeded = succeeded + 1 where distribution_id = $1`, [id]);
      return;
    case 'TemplateDistributionFailedForProject':
      await project('failed', event.data, { reason: event.data.reason });
      await db.query(`update ${s}.distributions set failed = failed + 1 where distribution_id = $1`, [id]);
      return;
    case 'TemplateDistributionSkippedForProject':
      await project('skipped', event.data, { reason: event.data.reason });
      await db.query(`update ${s}.distributions set skipped = skipped + 1 where distribution_id = $1`, [id]);
      return;
    case 'TemplateDistributionFinished':
      await db.query(`update ${s}.distributions set status = 'finished', finished_at = $2 where distribution_id = $1`, [id, event.data.at]);
      return;
    case 'TemplateDistributionRolledBack': {
      const { at, ...rollback } = event.data;
      await db.query(`update ${s}.distributions set status = 'rolled_back', rolled_back_at = $2, rollback = $3 where distribution_id = $1`, [id, at, JSON.stringify(rollback)]);
      return;
    }
    default:
      return;
  }
};

export interface DistributionRow {
  distribution_id: string;
  template_name: string;
  template_version: string;
  status: string;
  force: boolean;
  base_dir: string | null;
  targets: number;
  succeeded: number;
  failed: number;
  skipped: number;
  started_at: Date;
  finished_at: Date | null;
  rolled_back_at: Date | null;
  rollback: unknown;
}

export interface DistributionProjectRow {
  target: string;
  project: string;
  project_id: string | null;
  directory: string | null;
  status: string;
  file: string | null;
  path: string | null;
  ticket_id: string | null;
  reason: string | null;
  at: Date;
}

export async function queryDistributions(db: Db, s: string, filter: { templateName?: string; limit: number }): Promise<DistributionRow[]> {
  const { rows } = await db.query<DistributionRow>(
    `select * from ${s}.distributions where ($1::text is null or template_name = $1) order by started_at desc, distribution_id desc limit $2`,
    [filter.templateName ?? null, filter.limit],
  );
  return rows.map(({ version: _v, ...row }: DistributionRow & { version?: number }) => row);
}

export async function findDistribution(db: Db, s: string, id: string): Promise<DistributionRow | undefined> {
  const { rows } = await db.query<DistributionRow & { version?: number }>(`select * from ${s}.distributions where distribution_id = $1`, [id]);
  const row = rows[0];
  if (!row) return undefined;
  const { version: _v, ...rest } = row;
  return rest;
}

export async function queryDistributionProjects(db: Db, s: string, distributionId: string): Promise<DistributionProjectRow[]> {
  const { rows } = await db.query<DistributionProjectRow>(
    `select target, project, project_id, directory, status, file, path, ticket_id, reason, at from ${s}.distribution_projects where distribution_id = $1 order by seq`,
    [distributionId],
  );
  return rows;
}

/** The latest distribution of a template that delivered to a target and was not rolled back. */
export async function findPreviousDistribution(db: Db, s: string, target: string, templateName: string): Promise<string | undefined> {
  const { rows } = await db.query<{ distribution_id: string }>(
    `select d.distribution_id from ${s}.distribution_projects p join ${s}.distributions d using (distribution_id)
      where p.target = $1 and p.status = 'success' and d.template_name = $2 and d.status <> 'rolled_back'
      order by d.started_at desc limit 1`,
    [target, templateName],
  );
  return rows[0]?.distribution_id;
}
