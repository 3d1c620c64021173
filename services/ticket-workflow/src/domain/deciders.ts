import { decideDependencies, evolveDependencies, initialDependencyState, type DependencyCommand, type DependencyEvent, type DependencyState } from './dependencies';
import type { Decider } from './given-when-then';
import { decideProjectKey, evolveProjectKey, initialProjectKeyState, type ProjectKeyCommand, type ProjectKeyEvent, type ProjectKeyState } from './project-key';
import { decideWorkerType, evolveWorkerType, initialWorkerTypeState, type WorkerTypeCommand, type WorkerTypeEvent, type WorkerTypeState } from './worker-type';
import { decideDistribution, evolveDistribution, initialDistributionState, type DistributionCommand, type DistributionEvent, type DistributionState } from './template-distribution';
import { decideProject, evolveProject, initialProjectState, type ProjectCommand, type ProjectEvent, type ProjectState } from './project';
import { decideTicket, evolveTicket, initialTicketState, type TicketCommand, type TicketEvent, type TicketState } from './ticket';
import { decideWorker, evolveWorker, initialWorkerState, type WorkerCommand, type WorkerEvent, type WorkerState } from './worker';

/** Each aggregate as one value: what the application layer loads, decides and appends with. */
export const ticketDecider: Decider<TicketCommand, TicketEvent, TicketState> = { initialState: initialTicketState, evolve: evolveTicket, decide: decideTicket };
export const projectDecider: Decider<ProjectCommand, ProjectEvent, ProjectState> = { initialState: initialProjectState, evolve: evolveProject, decide: decideProject };
export const workerDecider: Decider<WorkerCommand, WorkerEvent, WorkerState> = { initialState: initialWorkerState, evolve: evolveWorker, decide: decideWorker };
export const distributionDecider: Decider<DistributionCommand, DistributionEvent, DistributionState> = {
  initialState: initialDistributionState,
  evolve: evolveDistribution,
  decide: decideDistribution,
};
export const projectKeyDecider: Decider<ProjectKeyCommand, ProjectKeyEvent, ProjectKeyState> = { initialState: initialProjectKeyState, evolve: evolveProjectKey, decide: decideProjectKey };
export const dependencyDecider: Decider<DependencyCommand, DependencyEvent, DependencyState> = {
  initialState: initialDependencyState,
  evolve: evolveDependencies,
  decide: decideDependencies,
};
export const workerTypeDecider: Decider<WorkerTypeCommand, WorkerTypeEvent, WorkerTypeState> = {
  initialState: initialWorkerTypeState,
  evolve: evolveWorkerType,
  decide: decideWorkerType,
};
