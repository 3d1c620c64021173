import { ERROR_CODES, conflict, isTicketWorkflowError, notFound } from '../domain/index';
import type { ConfinedRoot } from './confined-root';
import { describeFsError, fileSha256 } from './files';
import { removeCreated } from './cleanup';
import { appendDistributionLog, type LogLine } from './log-file';
import type { DistributionTracker, TicketIssuer } from './ports';

export interface RollbackReport {
  distributionId: string;
  removed: Array<{ project: string; path: string }>;
  /** Files kept because they were edited since the distribution wrote them (or could not be removed). */
  kept: Array<{ project: string; path: string; reason: string }>;
  /** Files that were already gone. */
  missing: Array<{ project: string; path: string }>;
  ticketsWithdrawn: string[];
  /** Tickets left open because their file was kept. */
  ticketsKeptOpen: string[];
  /** Folders and progress.md the distribution had created, removed because nothing else was in them. */
  cleanedUp: Array<{ project: string; path: string }>;
  lines: string[];
}

export interface RollbackDependencies {
  /** The projects root: files outside it are never touched (kept, with the reason). */
  files: ConfinedRoot;
  clock: () => Date;
  tracker: DistributionTracker;
  tickets?: TicketIssuer;
  onProgress?: (line: string) => void;
}

/**
 * Withdraws a distribution: removes the files it wrote, closes their tickets as Stopped,
 * and removes the folders and progress.md it created when nothing else is in them. A file
 * whose content no longer matches the hash recorded when it was written has been edited by
 * someone, so it is kept and reported, and its ticket stays open. Safe to retry after a
 * crash: files already removed count as missing, closed tickets are skipped.
 */
export async function rollbackDistribution(distributionId: string, deps: RollbackDependencies): Promise<RollbackReport> {
  const state = await deps.tracker.load(distributionId);
  if (!state) throw notFound(ERROR_CODES.distributionNotFound, `distribution ${distributionId} does not exist`);
  if (state.status === 'rolled_back') throw conflict(ERROR_CODES.distributionAlreadyRolledBack, `distribution ${distributionId} was already rolled back`);
  const report: RollbackReport = { distributionId, removed: [], kept: [], missing: [], ticketsWithdrawn: [], ticketsKeptOpen: [], cleanedUp: [], lines: [] };
  const say = (line: string) => {
    report.lines.push(line);
    deps.onProgress?.(line);
  };
  const removedLog: Array<{ target: string; project: string; path: string }> = [];
  const keptLog: Array<{ target: string; project: string; path: string; reason: string }> = [];
  const cleanedLog: Array<{ target: string; project: string; path: string }> = [];
  const now = deps.clock();
  const logLines: LogLine[] = [];
  const template = state.template?.name ?? '-';
  const log = (project: string, file: string, status: LogLine['status']) => logLines.push({ timestamp: now, distributionId, project, issueFile: file, template, status });

  say(`Rolling back distribution: ${distributionId}`);
  for (const project of state.distributed) {
    let fileKept = false;
    if (project.file) {
      const { path, sha256 } = project.file;
      const fileName = path.split('/').pop() ?? path;
      const current = await fileSha256(deps.files, path).catch((error: unknown) =>
        isTicketWorkflowError(error) && error.code === ERROR_CODES.pathNotAllowed ? 'outside' : 'unreadable',
      );
      if (current === undefined) {
        report.missing.push({ project: project.project, path });
        log(project.project, fileName, 'missing');
        say(`Already gone: ${project.project}/${project.file.relativePath}`);
      } else if (current !== sha256) {
        const reason = current === 'unreadable' ? 'could not be read' : current === 'outside' ? 'outside the projects root' : 'edited since it was distributed';
        report.kept.push({ project: project.project, path, reason });
        keptLog.push({ target: project.target, project: project.project, path, reason });
        log(project.project, fileName, 'kept_edited');
        say(`Kept (${reason}): ${project.project}/${project.file.relativePath}`);
        fileKept = true;
      } else {
        try {
          await deps.files.removeFile(path, 'issue file');
          report.removed.push({ project: project.project, path });
          removedLog.push({ target: project.target, project: project.project, path });
          log(project.project, fileName, 'rolled_back');
          say(`Removed: ${project.project}/${project.file.relativePath}`);
        } catch (error) {
          const reason = `could not be removed: ${describeFsError(error, path)}`;
          report.kept.push({ project: project.project, path, reason });
          keptLog.push({ target: project.target, project: project.project, path, reason });
          say(`Kept (${reason}): ${project.project}/${project.file.relativePath}`);
          fileKept = true;
        }
      }
    }
    if (fileKept) {
      // Someone works on it (or it could not go): its ticket stays open, its folders stay.
      if (project.ticketId) {
        report.ticketsKeptOpen.push(project.ticketId);
        say(`Kept open: ticket ${project.ticketId} (its file stays)`);
      }
      continue;
    }
    if (project.ticketId && deps.tickets) {
      if (await deps.tickets.withdraw(project.ticketId, `withdrawn by rollback of distribution ${distributionId}`)) {
        report.ticketsWithdrawn.push(project.ticketId);
        say(`Withdrawn: ticket ${project.ticketId}`);
      }
    }
    const cleaned = await removeCreated(deps.files, project.created ?? []).catch((error: unknown) => {
      say(`warning: could not remove the folders created in ${project.project}: ${describeFsError(error, project.directory ?? project.project)}`);
      return [] as string[];
    });
    for (const path of cleaned) {
      report.cleanedUp.push({ project: project.project, path });
      cleanedLog.push({ target: project.target, project: project.project, path });
    }
    if (cleaned.length > 0) say(`Cleaned up in ${project.project}: ${cleaned.length} folder(s) and file(s) it had created`);
  }
  // The original's closing line: `…|<id>|SYSTEM|ROLLBACK|SYSTEM|rollback`.
  logLines.push({ timestamp: now, distributionId, project: 'SYSTEM', issueFile: 'ROLLBACK', template: 'SYSTEM', status: 'rollback' });
  await deps.tracker.execute(distributionId, {
    type: 'RecordRollback',
    removed: removedLog,
    kept: keptLog,
    ticketsWithdrawn: report.ticketsWithdrawn,
    cleanedUp: cleanedLog,
    ticketsKeptOpen: report.ticketsKeptOpen,
    at: now.toISOString(),
  });
  if (state.baseDir) {
    await appendDistributionLog(deps.files, state.baseDir, logLines).catch((error: unknown) => say(`warning: could not append to the distribution log: ${describeFsError(error, state.baseDir!)}`));
  }
  say(
    `Rollback complete: ${report.removed.length} removed, ${report.kept.length} kept, ${report.missing.length} already gone, ${report.ticketsWithdrawn.length} tickets withdrawn` +
      (report.ticketsKeptOpen.length > 0 ? `, ${report.ticketsKeptOpen.length} kept open` : ''),
  );
  return report;
}
