import type { Decider } from '@fairlead/event-sourcing';
import { conflict, ERROR_CODES, notFound } from './errors';

/**
 * The template distribution aggregate (stream `template-distribution-<id>`): one
 * template sent to many projects. Each project's outcome is appended as it happens,
 * so a crash mid-way still leaves a record of what was written; rollback is recorded
 * once, with the files it removed and those it kept because they were edited.
 */

export interface TemplateRef {
  name: string;
  /** Short content hash of the template: which version a project received. */
  version: string;
}

/** A file a distribution wrote, with the hash that tells later whether someone edited it. */
export interface WrittenFile {
  /** Absolute path. */
  path: string;
  /** Path relative to the project directory, e.g. `issues/phase-1/004-audit.md`. */
  relativePath: string;
  number: number;
  sha256: string;
}

/** A folder or file a distribution created around its issue file (the issue structure, progress.md). */
export interface CreatedPath {
  /** Absolute real path. */
  path: string;
  kind: 'directory' | 'file';
  /** For a file: its hash when written, to tell whether it was edited since. */
  sha256?: string;
}

export interface ProjectOutcome {
  /** Stable identity of the target: the registered project id, or the absolute directory. */
  target: string;
  /** Display name (the log's `project` column). */
  project: string;
  projectId: string | null;
  directory: string | null;
}

export type DistributionEvent =
  | { type: 'TemplateDistributionStarted'; data: { distributionId: string; template: TemplateRef; targets: number; force: boolean; baseDir: string | null; at: string } }
  | { type: 'TemplateDistributedToProject'; data: ProjectOutcome & { file: WrittenFile | null; ticketId: string | null; created?: CreatedPath[]; at: string } }
  | { type: 'TemplateDistributionFailedForProject'; data: ProjectOutcome & { reason: string; at: string } }
  | { type: 'TemplateDistributionSkippedForProject'; data: ProjectOutcome & { reason: string; previousDistributionId: string | null; at: string } }
  | { type: 'TemplateDistributionFinished'; data: { succeeded: number; failed: number; skipped: number; at: string } }
  | { type: 'TemplateDistributionRolledBack'; data: Rollback };

/** What a rollback did: the RecordRollback command carries it, TemplateDistributionRolledBack records it. */
export interface Rollback {
  removed: Array<{ target: string; project: string; path: string }>;
  kept: Array<{ target: string; project: string; path: string; reason: string }>;
  ticketsWithdrawn: string[];
  /** Folders and progress.md the distribution had created, removed because nothing else was in them. */
  cleanedUp?: Array<{ target: string; project: string; path: string }>;
  /** Tickets left open because their file was edited (someone is working on them). */
  ticketsKeptOpen?: string[];
  at: string;
}

export type DistributionCommand =
  | { type: 'StartDistribution'; distributionId: string; template: TemplateRef; targets: number; force: boolean; baseDir: string | null; at: string }
  | { type: 'RecordProjectOutcome'; event: Extract<DistributionEvent, { type: 'TemplateDistributedToProject' | 'TemplateDistributionFailedForProject' | 'TemplateDistributionSkippedForProject' }> }
  | { type: 'FinishDistribution'; at: string }
  | ({ type: 'RecordRollback' } & Rollback);

export interface DistributedProject extends ProjectOutcome {
  file: WrittenFile | null;
  ticketId: string | null;
  created?: CreatedPath[];
}

export interface DistributionState {
  exists: boolean;
  distributionId: string;
  template: TemplateRef | null;
  baseDir: string | null;
  status: 'none' | 'running' | 'finished' | 'rolled_back';
  distributed: DistributedProject[];
  failed: Array<ProjectOutcome & { reason: string }>;
  skipped: Array<ProjectOutcome & { reason: string }>;
}

export const initialDistributionState = (): DistributionState => ({
  exists: false,
  distributionId: '',
  template: null,
  baseDir: null,
  status: 'none',
  distributed: [],
  failed: [],
  skipped: [],
});

export function evolveDistribution(state: DistributionState, event: DistributionEvent): DistributionState {
  switch (event.type) {
    case 'TemplateDistributionStarted':
      return { ...initialDistributionState(), exists: true, distributionId: event.data.distributionId, template: event.data.template, baseDir: event.data.baseDir, status: 'running' };
    case 'TemplateDistributedToProject': {
      const { at: _at, ...project } = event.data;
      return { ...state, distributed: [...state.distributed, project] };
    }
    case 'TemplateDistributionFailedForProject': {
      const { at: _at, ...project } = event.data;
      return { ...state, failed: [...state.failed, project] };
    }
    case 'TemplateDistributionSkippedForProject': {
      const { at: _at, previousDistributionId: _p, ...project } = event.data;
      return { ...state, skipped: [...state.skipped, project] };
    }
    case 'TemplateDistributionFinished':
      return { ...state, status: 'finished' };
    case 'TemplateDistributionRolledBack':
      return { ...state, status: 'rolled_back' };
  }
}

export function decideDistribution(command: DistributionCommand, state: DistributionState): DistributionEvent[] {
  switch (command.type) {
    case 'StartDistribution': {
      if (state.exists) throw conflict(ERROR_CODES.validation, `distribution ${command.distributionId} already exists`);
      const { type: _t, ...data } = command;
      return [{ type: 'TemplateDistributionStarted', data }];
    }
    case 'RecordProjectOutcome':
      if (state.status !== 'running') throw conflict(ERROR_CODES.validation, `distribution ${state.distributionId} is ${state.status}; no outcome can be added`);
      return [command.event];
    case 'FinishDistribution':
      if (state.status !== 'running') return [];
      return [{ type: 'TemplateDistributionFinished', data: { succeeded: state.distributed.length, failed: state.failed.length, skipped: state.skipped.length, at: command.at } }];
    case 'RecordRollback': {
      if (!state.exists) throw notFound(ERROR_CODES.distributionNotFound, 'distribution not found');
      if (state.status === 'rolled_back') throw conflict(ERROR_CODES.distributionAlreadyRolledBack, `distribution ${state.distributionId} was already rolled back`);
      const { type: _t, ...data } = command;
      return [{ type: 'TemplateDistributionRolledBack', data }];
    }
  }
}

/** A template distribution as one value: what the application handles commands with. */
export const distributionDecider: Decider<DistributionCommand, DistributionEvent, DistributionState> = { initialState: initialDistributionState, evolve: evolveDistribution, decide: decideDistribution };
