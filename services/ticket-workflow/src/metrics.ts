/**
 * The ticket workflow's Prometheus series: events it appends by type (tickets created,
 * stage completions, closings, comments, queue moves, template distributions, …), counted
 * from its own appends, and how far its read models have applied the log.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { AppendObserver } from '@fairlead/event-store';
import type { RunningProjector } from '@fairlead/projections';

export interface TicketWorkflowMetrics {
  /** Give to observeAppends on the store the workflow writes through. */
  onAppended: AppendObserver;
}

// Seeded at 0 so the usual questions (how many tickets, stages, closings) have an answer from the start.
const SEEDED = ['TicketCreated', 'TicketStageCompleted', 'TicketClosed', 'TicketCommentAdded', 'TicketTaskTaken'];

export function createTicketWorkflowMetrics(registry: Registry, sources: { projector: () => RunningProjector | undefined }): TicketWorkflowMetrics {
  const registers = [registry];
  const events = new Counter({ name: 'ticket_workflow_events_total', help: 'Events the ticket workflow recorded, by type.', labelNames: ['type'], registers });
  for (const type of SEEDED) events.inc({ type }, 0);
  new Gauge({
    name: 'ticket_workflow_projection_position',
    help: 'Global position of the last event the read models applied.',
    registers,
    collect() {
      const projector = sources.projector();
      if (projector) this.set(Number(projector.position().globalPosition));
    },
  });
  return {
    onAppended: (_stream, appended) => {
      for (const event of appended) events.inc({ type: event.type });
    },
  };
}
