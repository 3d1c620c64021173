/**
 * Operating the log's readers (projections and the relay): what an operator does about
 * one that is stalled on an event it cannot handle, and the status each reports.
 *
 * An operator's decision is an event on `projection-<name>`, so it is audited, survives
 * restarts and rebuilds, and reaches the stalled reader wherever it runs (a stalled reader
 * watches that stream): `ProjectionRetryRequested` (try the event again, e.g. after a fix)
 * or `ProjectionEventParked` (skip that one event for good; the reader goes on after it).
 */
import { z } from 'zod';
import { Actor, IsoTime } from './distribution/common';

/** A reader's name: `<schema>.<read model>` for projections, `relay` for the relay. */
export const ProjectionName = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[a-z0-9_.-]+$/, 'lower-case letters, digits, ".", "_" and "-" only');

const Position = z.string().regex(/^\d+$/, 'a decimal position');

/** The event a reader is stalled on, as the reader reports it. */
export const StalledEvent = z.object({
  event_id: z.string(),
  event_type: z.string(),
  stream: z.string(),
  global_position: Position,
  transaction_id: Position,
  error: z.string().max(2000),
  since: IsoTime,
  /** Times the event was tried (the first failure, operator retries, restarts of this process). */
  attempts: z.number().int().positive(),
});
export type StalledEvent = z.infer<typeof StalledEvent>;

/** What one reader of the log reports (GET /readyz, metrics, the operator API's projection list). */
export const ReaderStatus = z.object({
  name: ProjectionName,
  state: z.enum(['running', 'stalled']),
  /** The last position it applied (or published); it resumes strictly after it. */
  position: z.object({ transaction_id: Position, global_position: Position }),
  stalled: StalledEvent.nullable(),
  /** Events it skips because an operator parked them. */
  parked: z.number().int().nonnegative(),
});
export type ReaderStatus = z.infer<typeof ReaderStatus>;

/** The reply every process sends to a status request (`subjects.control('readers')`): its service, an id of the process, its readers. */
export const ReaderStatusReply = z.object({ service: z.string(), instance: z.string(), readers: z.array(ReaderStatus) });
export type ReaderStatusReply = z.infer<typeof ReaderStatusReply>;

/** Try the stalled event again (after a fix). */
export const ProjectionRetryRequested = z.object({
  projection: ProjectionName,
  /** The event the reader was stalled on when the operator asked. */
  event_id: z.string().nullable(),
  actor: Actor,
  at: IsoTime,
});

/** Skip one event for good: the reader records it as parked and goes on after it. */
export const ProjectionEventParked = z.object({
  projection: ProjectionName,
  event_id: z.string().min(1),
  event_type: z.string(),
  stream: z.string(),
  global_position: Position,
  error: z.string().max(2000),
  reason: z.string().min(1).max(500),
  actor: Actor,
  at: IsoTime,
});

export const PROJECTION_CONTROL_EVENTS = { ProjectionRetryRequested, ProjectionEventParked } as const;
export type ProjectionControlEvent =
  | { type: 'ProjectionRetryRequested'; data: z.output<typeof ProjectionRetryRequested> }
  | { type: 'ProjectionEventParked'; data: z.output<typeof ProjectionEventParked> };

/** The control stream of one reader. */
export const projectionControlStream = (name: string): string => `projection-${name}`;
