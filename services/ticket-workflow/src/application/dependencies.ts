import { ERROR_CODES, dependencyDecider, notFound, requireOpen, streams, ticketDecider, type DependencyState } from '../domain/index';
import { queryTicketStates } from '../projections/index';
import type { WorkflowContext } from './context';
import { execute, loadAggregate } from './event-sourcing';
import type { DependencyInput, Input, TicketRef } from './schemas';

export interface DependencyGraphView {
  ticket_id: string;
  /** `blocked` while a ticket it depends on (directly) is open. */
  status: 'ready' | 'blocked';
  depends_on: Array<{ ticket_id: string; state: string }>;
  dependents: Array<{ ticket_id: string; state: string }>;
  /** Every ticket it depends on, directly or not, and every ticket depending on it, with the edges between them. */
  graph: { nodes: Array<{ ticket_id: string; state: string }>; edges: Array<{ ticket_id: string; depends_on: string }> };
}

async function requireTicket(ctx: WorkflowContext, ticketId: string) {
  const { state } = await loadAggregate(ctx, streams.ticket(ticketId), ticketDecider);
  if (!state.exists) throw notFound(ERROR_CODES.ticketNotFound, `ticket ${ticketId} does not exist`);
  return state;
}

/** `ticket_id` waits for `depends_on` to close; refused when it would close a cycle. */
export async function addDependency(ctx: WorkflowContext, input: Input<typeof DependencyInput>): Promise<DependencyGraphView> {
  requireOpen(await requireTicket(ctx, input.ticket_id), 'take new dependencies');
  await requireTicket(ctx, input.depends_on);
  const at = ctx.clock().toISOString();
  await execute(ctx, streams.dependencies(), dependencyDecider, { type: 'AddDependency' as const, ticketId: input.ticket_id, dependsOn: input.depends_on, at });
  return getDependencies(ctx, { ticket_id: input.ticket_id });
}

export async function removeDependency(ctx: WorkflowContext, input: Input<typeof DependencyInput>): Promise<DependencyGraphView> {
  const at = ctx.clock().toISOString();
  await execute(ctx, streams.dependencies(), dependencyDecider, { type: 'RemoveDependency' as const, ticketId: input.ticket_id, dependsOn: input.depends_on, at });
  return getDependencies(ctx, { ticket_id: input.ticket_id });
}

/** The ticket's dependencies and dependents, and the whole graph around it, from the graph's own stream. */
export async function getDependencies(ctx: WorkflowContext, input: Input<typeof TicketRef>): Promise<DependencyGraphView> {
  await requireTicket(ctx, input.ticket_id);
  const { state } = await loadAggregate(ctx, streams.dependencies(), dependencyDecider);
  const reverse = reverseEdges(state);
  const upstream = reach(input.ticket_id, (t) => state.edges[t] ?? []);
  const downstream = reach(input.ticket_id, (t) => reverse.get(t) ?? []);
  const nodes = [...new Set([input.ticket_id, ...upstream, ...downstream])];
  const states = await queryTicketStates(ctx.pool, ctx.schema, nodes);
  const stateOf = (id: string) => states.get(id) ?? 'unknown';
  const edges = nodes.flatMap((t) => (state.edges[t] ?? []).filter((d) => nodes.includes(d)).map((d) => ({ ticket_id: t, depends_on: d })));
  const dependsOn = (state.edges[input.ticket_id] ?? []).map((t) => ({ ticket_id: t, state: stateOf(t) }));
  return {
    ticket_id: input.ticket_id,
    status: dependsOn.some((d) => d.state !== 'closed') ? 'blocked' : 'ready',
    depends_on: dependsOn,
    dependents: (reverse.get(input.ticket_id) ?? []).map((t) => ({ ticket_id: t, state: stateOf(t) })),
    graph: { nodes: nodes.map((t) => ({ ticket_id: t, state: stateOf(t) })), edges },
  };
}

function reverseEdges(state: DependencyState): Map<string, string[]> {
  const reverse = new Map<string, string[]>();
  for (const [ticket, deps] of Object.entries(state.edges)) for (const d of deps) reverse.set(d, [...(reverse.get(d) ?? []), ticket]);
  return reverse;
}

function reach(start: string, next: (ticket: string) => readonly string[]): string[] {
  const seen = new Set<string>();
  const queue = [...next(start)];
  while (queue.length > 0) {
    const t = queue.shift()!;
    if (seen.has(t) || t === start) continue;
    seen.add(t);
    queue.push(...next(t));
  }
  return [...seen];
}
