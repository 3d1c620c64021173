import { z } from 'zod';

/**
 * Names and identifiers shared by the aggregates, as zod schemas so every edge
 * validates them the same way.
 */

/** A project's id, e.g. `acme/web` (a repository name). */
export const ProjectId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._/-]*$/, 'letters, digits, ".", "_", "/" and "-", starting with a letter or digit');

/** The prefix of a project's readable ticket ids, e.g. `WEB` in `WEB-007`. */
export const ProjectKey = z
  .string()
  .min(1)
  .max(10)
  .regex(/^[A-Z][A-Z0-9]*$/, 'upper-case letters and digits, starting with a letter');

/** A readable ticket id: `<KEY>-<number>`, the number zero-padded to three digits. */
export const TicketId = z
  .string()
  .min(3)
  .max(32)
  .regex(/^[A-Z][A-Z0-9]*-\d{3,}$/, 'a ticket id like WEB-007');

/** A worker type, which is also a stage name of execution plans (`architect`, `developer`, …). */
export const WorkerType = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z][A-Za-z0-9_-]*$/, 'letters, digits, "_" and "-", starting with a letter')
  .refine((s) => !RESERVED_STAGES.has(s), 'Planned, Completed and Stopped are reserved stage names');

export const WorkerId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'letters, digits, ".", "_", ":" and "-"');

/** Stage names that are not worker types: the state before the first stage and the closed states. */
export const RESERVED_STAGES: ReadonlySet<string> = new Set(['Planned', 'Completed', 'Stopped']);

export const Priority = z.enum(['low', 'medium', 'high', 'critical']);
export type Priority = z.infer<typeof Priority>;

export function formatTicketId(key: string, number: number): string {
  return `${key}-${String(number).padStart(3, '0')}`;
}

/**
 * A key derived from a project id when none is given: the last path segment's letters
 * and digits, upper-cased, at most eight characters (`acme/web-app` → `WEBAPP`).
 */
export function deriveProjectKey(projectId: string): string {
  const last = projectId.split('/').filter(Boolean).pop() ?? projectId;
  const letters = last.toUpperCase().replace(/[^A-Z0-9]/g, '');
  const key = /^[A-Z]/.test(letters) ? letters : `P${letters}`;
  return key.slice(0, 8) || 'P';
}

/** The key and number of a readable ticket id (`WEB-007` → WEB, 7). */
export function parseTicketId(ticketId: string): { key: string; number: number } {
  const dash = ticketId.lastIndexOf('-');
  return { key: ticketId.slice(0, dash), number: Number.parseInt(ticketId.slice(dash + 1), 10) };
}

/** Keys tried for a new project without an explicit one: the derived key, then KEY2, KEY3, … */
export function keyCandidates(base: string, count = 99): string[] {
  return Array.from({ length: count }, (_, i) => (i === 0 ? base : `${base.slice(0, 8)}${i + 1}`));
}

export const streams = Object.freeze({
  ticket: (ticketId: string) => `ticket-${ticketId}`,
  project: (projectId: string) => `project-${projectId}`,
  /** The reservation of a project key (category `projectkey`). */
  projectKey: (key: string) => `projectkey-${key}`,
  /** Every dependency between tickets, one stream so a cycle check sees all edges (category `ticketgraph`). */
  dependencies: () => 'ticketgraph-all',
  workerType: (name: string) => `workertype-${name}`,
  worker: (workerId: string) => `worker-${workerId}`,
  distribution: (distributionId: string) => `template-distribution-${distributionId}`,
});
