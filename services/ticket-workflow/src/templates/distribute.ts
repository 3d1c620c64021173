import { join, relative } from 'node:path';
import { isTicketWorkflowError, type CreatedPath, type DistributionCommand, type TemplateRef } from '../domain/index';
import { describeFsError, fileSha256, sha256 } from './files';
import { KeywordFileError, loadProjectKeywords } from './keywords';
import { appendDistributionLog, type LogLine } from './log-file';
import { formatIssueNumber, highestIssueNumber, issueFileName } from './numbering';
import type { ConfinedRoot } from './confined-root';
import type { DistributionTarget, EngineDependencies, ReservedTicket } from './ports';
import { builtInKeywords, renderTemplate, titleOf, type Keywords } from './render';
import { removeCreated } from './cleanup';
import { checkIssueStructure, checkProjectDirectory, ensureIssueStructure, ISSUE_PATHS, ProjectDirectoryError, progressTemplate } from './structure';

export interface DistributeRequest {
  template: { name: string; content: string };
  targets: readonly DistributionTarget[];
  /** Values for every project; a project's `.ticket_keywords` file overrides them. */
  keywords?: Keywords;
  /** Where `.ticket_distribution_log` is appended; no log when null. */
  baseDir: string | null;
  /** Send the template again to projects that already received it. */
  force?: boolean;
  /** Preview: compute and report everything, write nothing. */
  dryRun?: boolean;
}

export type ProjectStatus = 'success' | 'would_write' | 'failed' | 'skipped';

export interface ProjectResult {
  target: string;
  project: string;
  directory: string | null;
  status: ProjectStatus;
  /** Relative to the project directory, e.g. `issues/phase-1/004-audit.md`. */
  file?: string;
  path?: string;
  number?: number;
  ticketId?: string;
  reason?: string;
  /** The distribution that already sent this template (skipped projects). */
  previousDistributionId?: string;
  /** Hash of the written file, to tell later whether it was edited. */
  sha256?: string;
  /** The rendered ticket (previews only). */
  content?: string;
  /** Folders and progress.md this run created around the file (rollback removes them when nothing else is in them). */
  created?: CreatedPath[];
}

export interface DistributionReport {
  distributionId: string;
  dryRun: boolean;
  template: TemplateRef;
  results: ProjectResult[];
  summary: { succeeded: number; failed: number; skipped: number; total: number };
  /** Header, one progress line per project, and the summary line. */
  lines: string[];
  warnings: string[];
}

/** The largest rendered ticket (a ticket description typed by a caller is at most 100 000 characters). */
export const MAX_RENDERED_CHARS = 200_000;

/** Placeholder values for previews, where no ticket is reserved. */
const PREVIEW_TICKET_ID = '(ticket id assigned on distribution)';

export const templateVersion = (content: string): string => sha256(content).slice(0, 12);

/**
 * Sends one template to many projects. Each project succeeds or fails on its own (a
 * missing or unwritable directory fails that project with its reason; the others go
 * on); every outcome is recorded as it happens and logged to `.ticket_distribution_log`.
 */
export async function distributeTemplate(request: DistributeRequest, deps: EngineDependencies): Promise<DistributionReport> {
  const now = deps.clock();
  const at = now.toISOString();
  const dryRun = request.dryRun ?? false;
  const force = request.force ?? false;
  const template: TemplateRef = { name: request.template.name, version: templateVersion(request.template.content) };
  const distributionId = deps.newDistributionId();
  const targets = uniqueTargets(request.targets);
  const lines: string[] = [];
  const warnings: string[] = [];
  const say = (line: string) => {
    lines.push(line);
    deps.onProgress?.(line);
  };
  const record = (command: DistributionCommand) => (dryRun ? Promise.resolve() : deps.tracker.execute(distributionId, command));

  say(dryRun ? `Preview of template ${template.name} (version ${template.version}), nothing is written` : `Starting distribution ${distributionId}`);
  say(`Template: ${template.name} (version ${template.version})`);
  say(`Target projects: ${targets.length}`);
  await record({ type: 'StartDistribution', distributionId, template, targets: targets.length, force, baseDir: request.baseDir, at });

  const results: ProjectResult[] = [];
  for (const target of targets) {
    const result = await distributeToProject(target, { request, deps, template, distributionId, now, dryRun, force }).catch(
      (error: unknown): ProjectResult => ({ target: target.target, project: target.project, directory: target.directory, status: 'failed', reason: reasonOf(error) }),
    );
    results.push(result);
    say(progressLine(result));
    await record({ type: 'RecordProjectOutcome', event: outcomeEvent(target, result, at) });
    if (!dryRun && request.baseDir) {
      await appendDistributionLog(deps.files, request.baseDir, [logLine(now, distributionId, template.name, result)]).catch((error: unknown) => {
        const warning = `could not append to the distribution log in ${request.baseDir}: ${describeFsError(error, request.baseDir!)}`;
        if (!warnings.includes(warning)) warnings.push(warning);
      });
    }
  }
  await record({ type: 'FinishDistribution', at: deps.clock().toISOString() });

  const count = (...statuses: ProjectStatus[]) => results.filter((r) => statuses.includes(r.status)).length;
  const summary = { succeeded: count('success', 'would_write'), failed: count('failed'), skipped: count('skipped'), total: results.length };
  say(
    dryRun
      ? `Preview complete: ${summary.succeeded} would be written, ${summary.failed} would fail, ${summary.skipped} skipped (of ${summary.total})`
      : `Distribution complete: ${summary.succeeded} success, ${summary.failed} errors, ${summary.skipped} skipped (of ${summary.total})`,
  );
  for (const warning of warnings) say(`warning: ${warning}`);
  return { distributionId, dryRun, template, results, summary, lines, warnings };
}

interface Context {
  request: DistributeRequest;
  deps: EngineDependencies;
  template: TemplateRef;
  distributionId: string;
  now: Date;
  dryRun: boolean;
  force: boolean;
}

async function distributeToProject(target: DistributionTarget, ctx: Context): Promise<ProjectResult> {
  const { deps, template, request } = ctx;
  const base = { target: target.target, project: target.project, directory: target.directory };
  const previous = await deps.tracker.findPrevious(target.target, template.name);
  if (previous && !ctx.force) {
    return { ...base, status: 'skipped', reason: `already distributed in ${previous.distributionId} (force to send it again)`, previousDistributionId: previous.distributionId };
  }
  if (!target.directory && !deps.tickets) return { ...base, status: 'failed', reason: 'the project has no directory, and no ticket store is connected' };

  // From here on the real path: a registered directory is checked against the root now, not only when registered.
  const directory = target.directory ? await checkProjectDirectory(deps.files, target.directory) : null;
  const projectKeywords = directory ? await loadProjectKeywords(deps.files, directory) : {};
  const values = (ticketNumber: string, ticketId: string | null): Keywords => {
    const builtIns = builtInKeywords({ projectName: target.project, projectDir: directory, date: ctx.now.toISOString().slice(0, 10), ticketNumber, ticketId });
    // Explicit values may override names and dates, never the numbers this run assigns.
    return { ...builtIns, ...request.keywords, ...projectKeywords, ticket_number: ticketNumber, ...(ticketId !== null ? { ticket_id: ticketId } : {}) };
  };
  const probe = renderTemplate(request.template.content, values('000', deps.tickets ? PREVIEW_TICKET_ID : null), MAX_RENDERED_CHARS);
  if (probe.unknown.length > 0) {
    return { ...base, status: 'failed', reason: `unknown keywords: ${probe.unknown.map((k) => `{{${k}}}`).join(', ')}` };
  }
  // Keyword values repeated in a template can multiply its size: a rendered ticket is bounded like a typed one.
  if (probe.tooLong) return { ...base, status: 'failed', reason: `the rendered ticket would be longer than ${MAX_RENDERED_CHARS} characters` };

  if (ctx.dryRun) {
    if (!directory) {
      return { ...base, status: 'would_write', content: renderTemplate(request.template.content, values('(assigned)', PREVIEW_TICKET_ID)).content };
    }
    await checkIssueStructure(deps.files, directory);
    const number = (await highestIssueNumber(deps.files, issueDirs(directory))) + 1;
    const file = join(ISSUE_PATHS.phase, issueFileName(number, template.name));
    const content = renderTemplate(request.template.content, values(formatIssueNumber(number), deps.tickets ? PREVIEW_TICKET_ID : null)).content;
    return { ...base, status: 'would_write', file, path: join(directory, file), number, content };
  }

  const created = directory ? await structureCreated(deps, directory, target.project) : [];
  try {
    const reserved = deps.tickets ? await deps.tickets.reserve(target) : null;
    let written: { path: string; file: string; number: number; content: string } | null = null;
    let content: string;
    if (directory) {
      written = await writeNextIssue(deps.files, directory, template.name, (n) => renderTemplate(request.template.content, values(formatIssueNumber(n), reserved?.ticketId ?? null)).content);
      content = written.content;
    } else {
      content = renderTemplate(request.template.content, values(formatIssueNumber(reserved!.number), reserved!.ticketId)).content;
    }
    if (deps.tickets && reserved) await createTicketOrUndo(deps, reserved, content, ctx, written);
    return {
      ...base,
      status: 'success',
      ...(written ? { file: written.file, path: written.path, number: written.number } : {}),
      ...(reserved ? { ticketId: reserved.ticketId } : {}),
      ...(written ? { sha256: sha256(written.content) } : {}),
      ...(created.length > 0 ? { created } : {}),
    };
  } catch (error) {
    // The project failed: the structure this run made for it goes too (when nothing else is in it).
    await removeCreated(deps.files, created).catch(() => undefined);
    throw error;
  }
}

/** The issue structure, with what this run created (folders, progress.md and its hash) for a later rollback. */
async function structureCreated(deps: EngineDependencies, directory: string, projectName: string): Promise<CreatedPath[]> {
  const { created, progress } = await ensureIssueStructure(deps.files, directory, projectName);
  const paths: CreatedPath[] = created.map((path) => ({ path, kind: 'directory' }));
  if (progress) paths.push({ path: progress, kind: 'file', sha256: sha256(progressTemplate(projectName)) });
  return paths;
}

/** Writes `issues/phase-1/NNN-<template>.md` after the highest existing number; a name taken meanwhile takes the next number. */
async function writeNextIssue(files: ConfinedRoot, directory: string, templateName: string, render: (n: number) => string) {
  let number = (await highestIssueNumber(files, issueDirs(directory))) + 1;
  for (let attempt = 0; attempt < 100; attempt++, number++) {
    const file = join(ISSUE_PATHS.phase, issueFileName(number, templateName));
    const path = join(directory, file);
    const content = render(number);
    if ((await files.writeNewFile(path, content, 'issue file')) === 'written') return { path, file, number, content };
  }
  throw new ProjectDirectoryError(`no free issue number found after ${number - 1} in ${join(directory, ISSUE_PATHS.phase)}`);
}

async function createTicketOrUndo(deps: EngineDependencies, reserved: ReservedTicket, content: string, ctx: Context, written: { path: string; content: string } | null) {
  try {
    await deps.tickets!.create(reserved, { title: titleOf(content, ctx.template.name), description: content, source: { distributionId: ctx.distributionId, template: ctx.template.name } });
  } catch (error) {
    // No ticket, no file: remove what this run wrote unless someone changed it already.
    if (written && (await fileSha256(deps.files, written.path).catch(() => undefined)) === sha256(written.content)) {
      await deps.files.removeFile(written.path, 'issue file').catch(() => undefined);
    }
    throw new Error(`the ticket could not be created: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

const issueDirs = (directory: string) => [join(directory, ISSUE_PATHS.phase), join(directory, ISSUE_PATHS.completed)];

function uniqueTargets(targets: readonly DistributionTarget[]): DistributionTarget[] {
  const seen = new Set<string>();
  return targets.filter((t) => (seen.has(t.target) ? false : (seen.add(t.target), true)));
}

function reasonOf(error: unknown): string {
  if (error instanceof ProjectDirectoryError || error instanceof KeywordFileError || isTicketWorkflowError(error)) return error.message;
  const errno = error as NodeJS.ErrnoException;
  if (typeof errno?.code === 'string' && typeof errno.path === 'string') return describeFsError(error, errno.path);
  return error instanceof Error ? error.message : String(error);
}

function progressLine(r: ProjectResult): string {
  switch (r.status) {
    case 'success':
      return `✓ ${r.project}: ${[r.file, r.ticketId ? `ticket ${r.ticketId}` : undefined].filter(Boolean).join(', ')}`;
    case 'would_write':
      return `✓ ${r.project}: would write ${r.file ?? 'a ticket (no directory)'}`;
    case 'skipped':
      return `✓ ${r.project}: skipped, ${r.reason}`;
    case 'failed':
      return `✗ ${r.project}: ${r.reason}`;
  }
}

function outcomeEvent(target: DistributionTarget, r: ProjectResult, at: string): Extract<DistributionCommand, { type: 'RecordProjectOutcome' }>['event'] {
  const outcome = { target: target.target, project: target.project, projectId: target.projectId, directory: target.directory };
  if (r.status === 'failed') return { type: 'TemplateDistributionFailedForProject', data: { ...outcome, reason: r.reason ?? 'failed', at } };
  if (r.status === 'skipped') {
    return { type: 'TemplateDistributionSkippedForProject', data: { ...outcome, reason: r.reason ?? 'skipped', previousDistributionId: r.previousDistributionId ?? null, at } };
  }
  const file = r.path && r.file && r.number !== undefined && r.sha256 ? { path: r.path, relativePath: r.file, number: r.number, sha256: r.sha256 } : null;
  return { type: 'TemplateDistributedToProject', data: { ...outcome, file, ticketId: r.ticketId ?? null, ...(r.created ? { created: r.created } : {}), at } };
}

function logLine(now: Date, distributionId: string, template: string, r: ProjectResult): LogLine {
  const status = r.status === 'success' || r.status === 'would_write' ? 'success' : r.status;
  return { timestamp: now, distributionId, project: r.project, issueFile: r.file ? relative(ISSUE_PATHS.phase, r.file) : '-', template, status };
}
