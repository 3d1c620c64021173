import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { isTicketWorkflowError } from '../domain/index';
import type { ConfinedRoot } from './confined-root';
import { describeFsError } from './files';

/** Where issues live in a project, relative to its directory. */
export const ISSUE_PATHS = Object.freeze({
  phase: join('issues', 'phase-1'),
  completed: join('issues', 'completed'),
  progress: join('issues', 'phase-1', 'progress.md'),
});

export class ProjectDirectoryError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'ProjectDirectoryError';
  }
}

/** The project directory's real path; fails with the reason when it is missing, not a directory, or outside the root. */
export async function checkProjectDirectory(root: ConfinedRoot, directory: string): Promise<string> {
  const real = await root.resolve(directory, 'project directory');
  let info;
  try {
    info = await lstat(real);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ProjectDirectoryError(code === 'ENOENT' || code === 'ENOTDIR' ? `directory does not exist: ${directory}` : describeFsError(error, directory));
  }
  if (!info.isDirectory()) throw new ProjectDirectoryError(`not a directory: ${directory}`);
  return real;
}

/**
 * What ensureIssueStructure would fail on, without writing: a file where one of the
 * issue folders should be, or a folder leading outside the root. Used by the preview.
 */
export async function checkIssueStructure(root: ConfinedRoot, directory: string): Promise<void> {
  for (const rel of ['issues', ISSUE_PATHS.phase, ISSUE_PATHS.completed]) {
    const path = join(directory, rel);
    const real = await root.resolve(path, 'issue folder');
    try {
      if (!(await lstat(real)).isDirectory()) throw new ProjectDirectoryError(`not a directory (a file is in the way): ${path}`);
    } catch (error) {
      if (error instanceof ProjectDirectoryError) throw error;
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') continue;
      throw new ProjectDirectoryError(describeFsError(error, path));
    }
  }
}

/**
 * Creates `issues/phase-1/`, `issues/completed/` and, when missing, `issues/phase-1/progress.md`
 * inside an existing project directory (the directory itself is never created), every
 * folder checked to stay inside the root. Returns the real paths it created, outermost
 * first (folders, then progress.md), so a rollback can remove exactly those.
 */
export async function ensureIssueStructure(root: ConfinedRoot, directory: string, projectName: string): Promise<{ created: string[]; progress: string | null }> {
  const project = await checkProjectDirectory(root, directory);
  const created: string[] = [];
  for (const rel of [ISSUE_PATHS.phase, ISSUE_PATHS.completed]) {
    try {
      created.push(...(await root.makeDirectories(project, rel, 'issue folder')).created);
    } catch (error) {
      if (isTicketWorkflowError(error)) throw error;
      throw new ProjectDirectoryError(`cannot create ${rel}: ${describeFsError(error, join(directory, rel))}`);
    }
  }
  const progress = join(project, ISSUE_PATHS.progress);
  try {
    if ((await root.writeNewFile(progress, progressTemplate(projectName), 'progress.md')) === 'written') return { created, progress };
  } catch (error) {
    if (isTicketWorkflowError(error)) throw error;
    throw new ProjectDirectoryError(`cannot write ${ISSUE_PATHS.progress}: ${describeFsError(error, progress)}`);
  }
  return { created, progress: null };
}

/** The progress file a project's issue folder starts with (`PROGRESS.md`). */
export function progressTemplate(projectName: string): string {
  return `# Phase 1 Progress

## Overview
This document tracks the progress of Phase 1 issues for the ${projectName} project.

## Completed Issues
- None yet

## In Progress
- None yet

## Pending
- All issues

## Notes
- Progress tracking follows CLAUDE.md conventions
- Issues are automatically distributed via ticket distribution system
`;
}
