import type { Decider } from '@fairlead/event-sourcing';
import { conflict, ERROR_CODES, invalid, notFound } from './errors';

/**
 * Dependencies between tickets (stream `ticketgraph-all`): "ticket A depends on B" means A
 * is blocked until B is closed. Every edge lives in this one stream, so the cycle check
 * sees the whole graph and two concurrent additions that would close a cycle between them
 * cannot both be stored (the second is re-decided on the first's result).
 */
export type DependencyEvent =
  | { type: 'TicketDependencyAdded'; data: { ticketId: string; dependsOn: string; at: string } }
  | { type: 'TicketDependencyRemoved'; data: { ticketId: string; dependsOn: string; at: string } };

export type DependencyCommand =
  | { type: 'AddDependency'; ticketId: string; dependsOn: string; at: string }
  | { type: 'RemoveDependency'; ticketId: string; dependsOn: string; at: string };

export interface DependencyState {
  /** ticket → the tickets it depends on. */
  edges: Readonly<Record<string, readonly string[]>>;
}

export const initialDependencyState = (): DependencyState => ({ edges: {} });

export function evolveDependencies(state: DependencyState, event: DependencyEvent): DependencyState {
  const current = state.edges[event.data.ticketId] ?? [];
  switch (event.type) {
    case 'TicketDependencyAdded':
      return { edges: { ...state.edges, [event.data.ticketId]: [...current, event.data.dependsOn] } };
    case 'TicketDependencyRemoved':
      return { edges: { ...state.edges, [event.data.ticketId]: current.filter((d) => d !== event.data.dependsOn) } };
  }
}

/** A path of dependencies from `from` to `to` (both included), or undefined when there is none. */
export function dependencyPath(state: DependencyState, from: string, to: string): string[] | undefined {
  const previous = new Map<string, string | null>([[from, null]]);
  const queue = [from];
  while (queue.length > 0) {
    const node = queue.shift()!;
    if (node === to) {
      const path: string[] = [];
      for (let at: string | null = node; at !== null; at = previous.get(at) ?? null) path.unshift(at);
      return path;
    }
    for (const next of state.edges[node] ?? []) {
      if (!previous.has(next)) {
        previous.set(next, node);
        queue.push(next);
      }
    }
  }
  return undefined;
}

export function decideDependencies(command: DependencyCommand, state: DependencyState): DependencyEvent[] {
  const { ticketId, dependsOn, at } = command;
  const current = state.edges[ticketId] ?? [];
  switch (command.type) {
    case 'AddDependency': {
      if (ticketId === dependsOn) throw invalid(ERROR_CODES.dependencyCycle, `ticket ${ticketId} cannot depend on itself`);
      if (current.includes(dependsOn)) return [];
      const back = dependencyPath(state, dependsOn, ticketId);
      if (back) throw conflict(ERROR_CODES.dependencyCycle, `${ticketId} → ${dependsOn} would close a cycle: ${[ticketId, ...back].join(' → ')}`);
      return [{ type: 'TicketDependencyAdded', data: { ticketId, dependsOn, at } }];
    }
    case 'RemoveDependency':
      if (!current.includes(dependsOn)) throw notFound(ERROR_CODES.dependencyNotFound, `ticket ${ticketId} does not depend on ${dependsOn}`);
      return [{ type: 'TicketDependencyRemoved', data: { ticketId, dependsOn, at } }];
  }
}

/** The dependency graph (one stream for all tickets) as one value: what the application handles commands with. */
export const dependencyDecider: Decider<DependencyCommand, DependencyEvent, DependencyState> = { initialState: initialDependencyState, evolve: evolveDependencies, decide: decideDependencies };
