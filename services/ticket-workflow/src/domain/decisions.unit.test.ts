import { describe, expect, it } from 'vitest';
import { dependencyDecider, projectDecider, projectKeyDecider, workerTypeDecider } from './deciders';
import type { DependencyEvent } from './dependencies';
import { ERROR_CODES, isTicketWorkflowError } from './errors';
import { given } from './given-when-then';
import type { ProjectEvent } from './project';
import type { WorkerTypeEvent } from './worker-type';

const at = '2025-01-01T00:00:00.000Z';
const codeOf = (error: unknown): string => {
  if (!isTicketWorkflowError(error)) throw error;
  return error.code;
};

describe('a project key', () => {
  const reserved = [{ type: 'ProjectKeyReserved' as const, data: { key: 'WEB', projectId: 'acme/web', at } }];

  it('is reserved by one project; its holder reserving again is a no-op, anyone else is refused', () => {
    expect(given(projectKeyDecider, []).when({ type: 'ReserveProjectKey', key: 'WEB', projectId: 'acme/web', at }).then()).toEqual(reserved);
    expect(given(projectKeyDecider, reserved).when({ type: 'ReserveProjectKey', key: 'WEB', projectId: 'acme/web', at }).then()).toEqual([]);
    const error = given(projectKeyDecider, reserved).when({ type: 'ReserveProjectKey', key: 'WEB', projectId: 'blog/web', at }).error();
    expect(codeOf(error)).toBe(ERROR_CODES.projectKeyTaken);
    expect((error as Error).message).toContain('WEB is already used by project acme/web');
  });

  it('is free again only when its holder releases it', () => {
    const released = given(projectKeyDecider, reserved).when({ type: 'ReleaseProjectKey', key: 'WEB', projectId: 'acme/web', at }).then();
    expect(given(projectKeyDecider, [...reserved, ...released]).when({ type: 'ReserveProjectKey', key: 'WEB', projectId: 'blog/web', at }).then()).toHaveLength(1);
    expect(given(projectKeyDecider, reserved).when({ type: 'ReleaseProjectKey', key: 'WEB', projectId: 'blog/web', at }).then()).toEqual([]);
  });
});

describe('a project', () => {
  const registered: ProjectEvent[] = [
    { type: 'ProjectRegistered', data: { projectId: 'acme/web', key: 'WEB', name: 'web', directory: null, at } },
    { type: 'ProjectTicketNumberAssigned', data: { number: 3, ticketId: 'WEB-003', at } },
  ];

  it('changes its key and keeps the old one; numbers continue', () => {
    const changed = given(projectDecider, registered).when({ type: 'ChangeProjectKey', key: 'SITE', at }).then();
    expect(changed).toEqual([{ type: 'ProjectKeyChanged', data: { from: 'WEB', to: 'SITE', at } }]);
    const state = given(projectDecider, [...registered, ...changed]).state;
    expect(state).toMatchObject({ key: 'SITE', keys: ['WEB', 'SITE'] });
    expect(given(projectDecider, [...registered, ...changed]).when({ type: 'AssignTicketNumber', at }).then()[0]?.data).toMatchObject({ ticketId: 'SITE-004' });
  });

  it('takes a chosen number and continues after the highest', () => {
    const claimed = given(projectDecider, registered).when({ type: 'ClaimTicketNumber', number: 42, at }).then();
    expect(claimed[0]?.data).toMatchObject({ number: 42, ticketId: 'WEB-042' });
    expect(given(projectDecider, [...registered, ...claimed]).when({ type: 'AssignTicketNumber', at }).then()[0]?.data).toMatchObject({ number: 43 });
    const lower = given(projectDecider, [...registered, ...claimed]).when({ type: 'ClaimTicketNumber', number: 2, at }).then();
    expect(given(projectDecider, [...registered, ...claimed, ...lower]).state.lastNumber).toBe(42);
  });

  it('is deleted only without open tickets, then refuses numbers until registered again', () => {
    expect(codeOf(given(projectDecider, registered).when({ type: 'DeleteProject', openTickets: ['WEB-003'], at }).error())).toBe(ERROR_CODES.projectHasOpenTickets);
    const deleted = given(projectDecider, registered).when({ type: 'DeleteProject', openTickets: [], at }).then();
    expect(codeOf(given(projectDecider, [...registered, ...deleted]).when({ type: 'AssignTicketNumber', at }).error())).toBe(ERROR_CODES.projectDeleted);
    const again = given(projectDecider, [...registered, ...deleted]).when({ type: 'RegisterProject', projectId: 'acme/web', key: 'WEB', name: 'web', directory: null, at }).then();
    expect(given(projectDecider, [...registered, ...deleted, ...again]).when({ type: 'AssignTicketNumber', at }).then()[0]?.data).toMatchObject({ ticketId: 'WEB-004' });
  });
});

describe('ticket dependencies', () => {
  const edge = (ticketId: string, dependsOn: string): DependencyEvent => ({ type: 'TicketDependencyAdded', data: { ticketId, dependsOn, at } });
  const chain = [edge('A-001', 'A-002'), edge('A-002', 'A-003')];

  it('are added once; a dependency on itself or one closing a cycle is refused with the cycle', () => {
    expect(given(dependencyDecider, chain).when({ type: 'AddDependency', ticketId: 'A-001', dependsOn: 'A-003', at }).then()).toEqual([edge('A-001', 'A-003')]);
    expect(given(dependencyDecider, chain).when({ type: 'AddDependency', ticketId: 'A-001', dependsOn: 'A-002', at }).then()).toEqual([]);
    expect(codeOf(given(dependencyDecider, []).when({ type: 'AddDependency', ticketId: 'A-001', dependsOn: 'A-001', at }).error())).toBe(ERROR_CODES.dependencyCycle);
    const cycle = given(dependencyDecider, chain).when({ type: 'AddDependency', ticketId: 'A-003', dependsOn: 'A-001', at }).error();
    expect(codeOf(cycle)).toBe(ERROR_CODES.dependencyCycle);
    expect((cycle as Error).message).toBe('A-003 → A-001 would close a cycle: A-003 → A-001 → A-002 → A-003');
  });

  it('are removed when present; removing frees the way back', () => {
    const removed = given(dependencyDecider, chain).when({ type: 'RemoveDependency', ticketId: 'A-002', dependsOn: 'A-003', at }).then();
    expect(given(dependencyDecider, [...chain, ...removed]).when({ type: 'AddDependency', ticketId: 'A-003', dependsOn: 'A-001', at }).then()).toHaveLength(1);
    expect(codeOf(given(dependencyDecider, chain).when({ type: 'RemoveDependency', ticketId: 'A-003', dependsOn: 'A-001', at }).error())).toBe(ERROR_CODES.dependencyNotFound);
  });
});

describe('a worker type', () => {
  const created: WorkerTypeEvent[] = [{ type: 'WorkerTypeCreated', data: { name: 'reviewer', description: 'Reviews code', instructions: 'Be kind', at } }];

  it('is created once, updated, and deleted only when nothing needs it', () => {
    expect(codeOf(given(workerTypeDecider, created).when({ type: 'CreateWorkerType', name: 'reviewer', description: 'x', instructions: null, at }).error())).toBe(ERROR_CODES.workerTypeExists);
    expect(given(workerTypeDecider, created).when({ type: 'UpdateWorkerType', name: 'reviewer', instructions: 'Be thorough', at }).then()).toEqual([
      { type: 'WorkerTypeUpdated', data: { description: 'Reviews code', instructions: 'Be thorough', at } },
    ]);
    expect(codeOf(given(workerTypeDecider, created).when({ type: 'DeleteWorkerType', name: 'reviewer', inUseBy: ['worker rev-1 (active)'], at }).error())).toBe(ERROR_CODES.workerTypeInUse);
    const deleted = given(workerTypeDecider, created).when({ type: 'DeleteWorkerType', name: 'reviewer', inUseBy: [], at }).then();
    expect(codeOf(given(workerTypeDecider, [...created, ...deleted]).when({ type: 'UpdateWorkerType', name: 'reviewer', description: 'x', at }).error())).toBe(ERROR_CODES.workerTypeNotFound);
    expect(given(workerTypeDecider, [...created, ...deleted]).when({ type: 'CreateWorkerType', name: 'reviewer', description: 'again', instructions: null, at }).then()).toHaveLength(1);
  });
});
