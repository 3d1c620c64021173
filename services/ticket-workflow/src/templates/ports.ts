import type { DistributionCommand, DistributionState } from '../domain/index';
import type { ConfinedRoot } from './confined-root';

/** A project a template is sent to. */
export interface DistributionTarget {
  /** Stable identity: the registered project id, or the absolute directory. */
  target: string;
  /** Display name: progress lines and the log's `project` column. */
  project: string;
  /** The registered project, when there is one. */
  projectId: string | null;
  /** Absolute directory; without one, the project gets a ticket but no file. */
  directory: string | null;
}

/**
 * Where distributions are recorded: the `template-distribution-<id>` aggregate (event
 * store in the service, in memory for previews and tests of the engine alone).
 */
export interface DistributionTracker {
  /** Runs one command on the distribution's aggregate. */
  execute(distributionId: string, command: DistributionCommand): Promise<void>;
  load(distributionId: string): Promise<DistributionState | undefined>;
  /** The latest distribution of this template to this target that was not rolled back. */
  findPrevious(target: string, templateName: string): Promise<{ distributionId: string } | undefined>;
}

export interface ReservedTicket {
  ticketId: string;
  number: number;
  projectId: string;
}

/** Tickets in the projects' sequences; absent when the engine runs on files alone. */
export interface TicketIssuer {
  /** Takes the next number of the target's project sequence (registering the project when needed). */
  reserve(target: DistributionTarget): Promise<ReservedTicket>;
  create(reserved: ReservedTicket, ticket: { title: string; description: string; source: { distributionId: string; template: string } }): Promise<void>;
  /** Closes the ticket as Stopped with the reason; false when it was already closed. */
  withdraw(ticketId: string, reason: string): Promise<boolean>;
}

export interface EngineDependencies {
  /** The projects root: every project folder, issue file and log is read and written inside it. */
  files: ConfinedRoot;
  clock: () => Date;
  newDistributionId: () => string;
  tracker: DistributionTracker;
  tickets?: TicketIssuer;
  /** Called with each progress line as it happens (the CLI prints them). */
  onProgress?: (line: string) => void;
}
