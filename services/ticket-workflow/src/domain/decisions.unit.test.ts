import { describe, expect, it } from 'vitest';
import { DeciderSpecification } from '@fairlead/event-sourcing/testing';
import { projectKeyDecider } from './project-key.decider';
import { dependencyDecider, type DependencyEvent } from './dependencies.decider';
import { ERROR_CODES, TicketWorkflowError } from './errors';
import { projectDecider, type ProjectEvent } from './project.decider';
import { workerTypeDecider, type WorkerTypeEvent } from './worker-type.decider';

const givenKey = DeciderSpecification.for(projectKeyDecider);
const givenProject = DeciderSpecification.for(projectDecider);
const givenDependencies = DeciderSpecification.for(dependencyDecider);
const givenWorkerType = DeciderSpecification.for(workerTypeDecider);

const at = '2025-01-01T00:00:00.000Z';

describe('a project key', () => {
  const reserved = [{ type: 'ProjectKeyReserved' as const, data: { key: 'WEB', projectId: 'acme/web', at } }];

  it('is reserved by one project; its holder reserving again is a no-op, anyone else is refused', () => {
    expect(givenKey([]).when({ type: 'ReserveProjectKey', key: 'WEB', projectId: 'acme/web', at }).events()).toEqual(reserved);
    expect(givenKey(reserved).when({ type: 'ReserveProjectKey', key: 'WEB', projectId: 'acme/web', at }).events()).toEqual([]);
    const error = givenKey(reserved).when({ type: 'ReserveProjectKey', key: 'WEB', projectId: 'blog/web', at }).thenThrows(TicketWorkflowError);
    expect(error.code).toBe(ERROR_CODES.projectKeyTaken);
    expect((error as Error).message).toContain('WEB is already used by project acme/web');
  });

  it('is free again only when its holder releases it', () => {
    const released = givenKey(reserved).when({ type: 'ReleaseProjectKey', key: 'WEB', projectId: 'acme/web', at }).events();
    expect(givenKey([...reserved, ...released]).when({ type: 'ReserveProjectKey', key: 'WEB', projectId: 'blog/web', at }).events()).toHaveLength(1);
    expect(givenKey(reserved).when({ type: 'ReleaseProjectKey', key: 'WEB', projectId: 'blog/web', at }).events()).toEqual([]);
  });
});

describe('a project', () => {
  const registered: ProjectEvent[] = [
    { type: 'ProjectRegistered', data: { projectId: 'acme/web', key: 'WEB', name: 'web', directory: null, at } },
    { type: 'ProjectTicketNumberAssigned', data: { number: 3, ticketId: 'WEB-003', at } },
  ];

  it('changes its key and keeps the old one; numbers continue', () => {
    const changed = givenProject(registered).when({ type: 'ChangeProjectKey', key: 'SITE', at }).events();
    expect(changed).toEqual([{ type: 'ProjectKeyChanged', data: { from: 'WEB', to: 'SITE', at } }]);
    const state = givenProject([...registered, ...changed]).state;
    expect(state).toMatchObject({ key: 'SITE', keys: ['WEB', 'SITE'] });
    expect(givenProject([...registered, ...changed]).when({ type: 'AssignTicketNumber', at }).events()[0]?.data).toMatchObject({ ticketId: 'SITE-004' });
  });

  it('takes a chosen number and continues after the highest', () => {
    const claimed = givenProject(registered).when({ type: 'ClaimTicketNumber', number: 42, at }).events();
    expect(claimed[0]?.data).toMatchObject({ number: 42, ticketId: 'WEB-042' });
    expect(givenProject([...registered, ...claimed]).when({ type: 'AssignTicketNumber', at }).events()[0]?.data).toMatchObject({ number: 43 });
    const lower = givenProject([...registered, ...claimed]).when({ type: 'ClaimTicketNumber', number: 2, at }).events();
    expect(givenProject([...registered, ...claimed, ...lower]).state.lastNumber).toBe(42);
  });

  it('is deleted only without open tickets, then refuses numbers until registered again', () => {
    expect(givenProject(registered).when({ type: 'DeleteProject', openTickets: ['WEB-003'], at }).thenThrows(TicketWorkflowError).code).toBe(ERROR_CODES.projectHasOpenTickets);
    const deleted = givenProject(registered).when({ type: 'DeleteProject', openTickets: [], at }).events();
    expect(givenProject([...registered, ...deleted]).when({ type: 'AssignTicketNumber', at }).thenThrows(TicketWorkflowError).code).toBe(ERROR_CODES.projectDeleted);
    const again = givenProject([...registered, ...deleted]).when({ type: 'RegisterProject', projectId: 'acme/web', key: 'WEB', name: 'web', directory: null, at }).events();
    expect(givenProject([...registered, ...deleted, ...again]).when({ type: 'AssignTicketNumber', at }).events()[0]?.data).toMatchObject({ ticketId: 'WEB-004' });
  });
});

describe('a project: one command of a use case', () => {
  const registered: ProjectEvent[] = [{ type: 'ProjectRegistered', data: { projectId: 'acme/web', key: 'WEB', name: 'web', directory: null, at } }];
  const register = { projectId: 'acme/web', key: 'WEB', name: 'web' };
  const numbered = (number: number, key = 'WEB'): ProjectEvent => ({ type: 'ProjectTicketNumberAssigned', data: { number, ticketId: `${key}-${String(number).padStart(3, '0')}`, at } });

  it('numbers a new ticket of a new project: registered first, then its first number', () => {
    givenProject([]).when({ type: 'NumberNewTicket', register, at }).then([...registered, numbered(1)]);
  });

  it('numbers a new ticket of a known project without registering it again (its own key and directory kept)', () => {
    const withDirectory: ProjectEvent[] = [{ type: 'ProjectRegistered', data: { ...register, directory: '/projects/web', at } }];
    givenProject(withDirectory).when({ type: 'NumberNewTicket', register: { ...register, key: 'OTHER' }, at }).then([numbered(1)]);
  });

  it('claims the ticket id the caller chose when its key is the project’s, and refuses one of another key', () => {
    givenProject(registered).when({ type: 'NumberNewTicket', register, claim: { key: 'WEB', number: 42 }, at }).then([numbered(42)]);
    const refusal = givenProject(registered)
      .when({ type: 'NumberNewTicket', register, claim: { key: 'API', number: 7 }, at })
      .thenThrows(TicketWorkflowError, (e) => e.code === ERROR_CODES.ticketIdMismatch);
    expect(refusal.message).toBe('ticket_id API-007 does not match project acme/web, whose ticket ids start with WEB-');
  });

  it('refuses a number of a deleted project', () => {
    givenProject([...registered, { type: 'ProjectDeleted', data: { at } }])
      .when({ type: 'NumberNewTicket', register, at })
      .thenThrows(TicketWorkflowError, (e) => e.code === ERROR_CODES.projectDeleted);
  });

  it('updates key, name and directory in one command: the key change first; what is unchanged decides nothing', () => {
    givenProject(registered)
      .when({ type: 'UpdateProject', key: 'SITE', name: 'site', at })
      .then([
        { type: 'ProjectKeyChanged', data: { from: 'WEB', to: 'SITE', at } },
        { type: 'ProjectUpdated', data: { name: 'site', directory: null, at } },
      ]);
    givenProject(registered).when({ type: 'UpdateProject', key: 'SITE', at }).then([{ type: 'ProjectKeyChanged', data: { from: 'WEB', to: 'SITE', at } }]);
    givenProject(registered).when({ type: 'UpdateProject', key: 'WEB', name: 'web', at }).thenNothingHappened();
    givenProject([]).when({ type: 'UpdateProject', key: 'SITE', at }).thenThrows(TicketWorkflowError, (e) => e.code === ERROR_CODES.projectNotFound);
  });
});

describe('ticket dependencies', () => {
  const edge = (ticketId: string, dependsOn: string): DependencyEvent => ({ type: 'TicketDependencyAdded', data: { ticketId, dependsOn, at } });
  const chain = [edge('A-001', 'A-002'), edge('A-002', 'A-003')];

  it('are added once; a dependency on itself or one closing a cycle is refused with the cycle', () => {
    expect(givenDependencies(chain).when({ type: 'AddDependency', ticketId: 'A-001', dependsOn: 'A-003', at }).events()).toEqual([edge('A-001', 'A-003')]);
    expect(givenDependencies(chain).when({ type: 'AddDependency', ticketId: 'A-001', dependsOn: 'A-002', at }).events()).toEqual([]);
    expect(givenDependencies([]).when({ type: 'AddDependency', ticketId: 'A-001', dependsOn: 'A-001', at }).thenThrows(TicketWorkflowError).code).toBe(ERROR_CODES.dependencyCycle);
    const cycle = givenDependencies(chain).when({ type: 'AddDependency', ticketId: 'A-003', dependsOn: 'A-001', at }).thenThrows(TicketWorkflowError);
    expect(cycle.code).toBe(ERROR_CODES.dependencyCycle);
    expect((cycle as Error).message).toBe('A-003 → A-001 would close a cycle: A-003 → A-001 → A-002 → A-003');
  });

  it('are removed when present; removing frees the way back', () => {
    const removed = givenDependencies(chain).when({ type: 'RemoveDependency', ticketId: 'A-002', dependsOn: 'A-003', at }).events();
    expect(givenDependencies([...chain, ...removed]).when({ type: 'AddDependency', ticketId: 'A-003', dependsOn: 'A-001', at }).events()).toHaveLength(1);
    expect(givenDependencies(chain).when({ type: 'RemoveDependency', ticketId: 'A-003', dependsOn: 'A-001', at }).thenThrows(TicketWorkflowError).code).toBe(ERROR_CODES.dependencyNotFound);
  });
});

describe('a worker type', () => {
  const created: WorkerTypeEvent[] = [{ type: 'WorkerTypeCreated', data: { name: 'reviewer', description: 'Reviews code', instructions: 'Be kind', at } }];

  it('is created once, updated, and deleted only when nothing needs it', () => {
    expect(givenWorkerType(created).when({ type: 'CreateWorkerType', name: 'reviewer', description: 'x', instructions: null, at }).thenThrows(TicketWorkflowError).code).toBe(ERROR_CODES.workerTypeExists);
    expect(givenWorkerType(created).when({ type: 'UpdateWorkerType', name: 'reviewer', instructions: 'Be thorough', at }).events()).toEqual([
      { type: 'WorkerTypeUpdated', data: { description: 'Reviews code', instructions: 'Be thorough', at } },
    ]);
    expect(givenWorkerType(created).when({ type: 'DeleteWorkerType', name: 'reviewer', inUseBy: ['worker rev-1 (active)'], at }).thenThrows(TicketWorkflowError).code).toBe(ERROR_CODES.workerTypeInUse);
    const deleted = givenWorkerType(created).when({ type: 'DeleteWorkerType', name: 'reviewer', inUseBy: [], at }).events();
    expect(givenWorkerType([...created, ...deleted]).when({ type: 'UpdateWorkerType', name: 'reviewer', description: 'x', at }).thenThrows(TicketWorkflowError).code).toBe(ERROR_CODES.workerTypeNotFound);
    expect(givenWorkerType([...created, ...deleted]).when({ type: 'CreateWorkerType', name: 'reviewer', description: 'again', instructions: null, at }).events()).toHaveLength(1);
  });
});
