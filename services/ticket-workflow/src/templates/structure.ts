import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describeFsError, writeFileExclusive } from './files';

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

/** Fails with the reason when the project directory is missing or is not a directory. */
export async function checkProjectDirectory(directory: string): Promise<void> {
  let info;
  try {
    info = await stat(directory);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ProjectDirectoryError(code === 'ENOENT' || code === 'ENOTDIR' ? `directory does not exist: ${directory}` : describeFsError(error, directory));
  }
  if (!info.isDirectory()) throw new ProjectDirectoryError(`not a directory: ${directory}`);
}

/**
 * What ensureIssueStructure would fail on, without writing: a file where one of the
 * issue folders should be. Used by the preview.
 */
export async function checkIssueStructure(directory: string): Promise<void> {
  for (const rel of ['issues', ISSUE_PATHS.phase, ISSUE_PATHS.completed]) {
    const path = join(directory, rel);
    try {
      if (!(await stat(path)).isDirectory()) throw new ProjectDirectoryError(`not a directory (a file is in the way): ${path}`);
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
 * inside an existing project directory (the directory itself is never created). Returns
 * the paths it created, relative to the project.
 */
export async function ensureIssueStructure(directory: string, projectName: string): Promise<string[]> {
  await checkProjectDirectory(directory);
  const created: string[] = [];
  for (const rel of [ISSUE_PATHS.phase, ISSUE_PATHS.completed]) {
    const path = join(directory, rel);
    try {
      const first = await mkdir(path, { recursive: true });
      if (first !== undefined) created.push(rel);
    } catch (error) {
      throw new ProjectDirectoryError(`cannot create ${rel}: ${describeFsError(error, path)}`);
    }
  }
  const progress = join(directory, ISSUE_PATHS.progress);
  try {
    if ((await writeFileExclusive(progress, progressTemplate(projectName))) === 'written') created.push(ISSUE_PATHS.progress);
  } catch (error) {
    throw new ProjectDirectoryError(`cannot write ${ISSUE_PATHS.progress}: ${describeFsError(error, progress)}`);
  }
  return created;
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
