import { describe, expect, it } from 'vitest';
import { DeciderSpecification } from '@fairlead/event-sourcing/testing';
import { ERROR_CODES, TicketWorkflowError } from './errors';
import { deriveProjectKey, formatTicketId, TicketId, WorkerType } from './names';
import { projectDecider, type ProjectEvent } from './project.decider';
import { distributionDecider, type DistributionEvent } from './template-distribution.decider';
import { workerDecider, type WorkerEvent } from './worker.decider';

const givenProject = DeciderSpecification.for(projectDecider);
const givenWorker = DeciderSpecification.for(workerDecider);
const givenDistribution = DeciderSpecification.for(distributionDecider);

const at = '2025-01-01T00:00:00.000Z';

describe('project', () => {
  const registered: ProjectEvent = { type: 'ProjectRegistered', data: { projectId: 'acme/web', key: 'WEB', name: 'web', directory: null, at } };

  it('hands out readable ticket ids in sequence', () => {
    const first = givenProject([registered]).when({ type: 'AssignTicketNumber', at }).events();
    expect(first).toEqual([{ type: 'ProjectTicketNumberAssigned', data: { number: 1, ticketId: 'WEB-001', at } }]);
    const seventh = givenProject([registered, ...[1, 2, 3, 4, 5, 6].map((n) => ({ type: 'ProjectTicketNumberAssigned' as const, data: { number: n, ticketId: formatTicketId('WEB', n), at } }))])
      .when({ type: 'AssignTicketNumber', at })
      .events();
    expect(seventh[0]?.data).toMatchObject({ number: 7, ticketId: 'WEB-007' });
  });

  it('registers once; the same registration again is a no-op, a different one is refused', () => {
    expect(givenProject([registered]).when({ type: 'RegisterProject', projectId: 'acme/web', key: 'WEB', name: 'web', directory: null, at }).events()).toEqual([]);
    expect(givenProject([registered]).when({ type: 'RegisterProject', projectId: 'acme/web', key: 'ACME', name: 'web', directory: null, at }).thenThrows(TicketWorkflowError).code).toBe(
      ERROR_CODES.projectAlreadyRegistered,
    );
  });

  it('refuses numbers for an unknown project', () => {
    expect(givenProject([]).when({ type: 'AssignTicketNumber', at }).thenThrows(TicketWorkflowError).code).toBe(ERROR_CODES.projectNotFound);
  });

  it('derives keys and formats ids past 999', () => {
    expect(deriveProjectKey('acme/web-app')).toBe('WEBAPP');
    expect(deriveProjectKey('test/project')).toBe('PROJECT');
    expect(deriveProjectKey('42things')).toBe('P42THING');
    expect(formatTicketId('WEB', 1000)).toBe('WEB-1000');
    expect(TicketId.safeParse('WEB-007').success).toBe(true);
    expect(TicketId.safeParse('web-7').success).toBe(false);
    expect(WorkerType.safeParse('Planned').success).toBe(false);
  });
});

describe('worker', () => {
  const registered: WorkerEvent = { type: 'WorkerRegistered', data: { workerId: 'dev-1', workerType: 'developer', status: 'active', queueName: 'queue:developer', at } };

  it('registers with its queue', () => {
    expect(givenWorker([]).when({ type: 'RegisterWorker', workerId: 'dev-1', workerType: 'developer', status: 'active', at }).events()).toEqual([registered]);
    expect(givenWorker([registered]).when({ type: 'RegisterWorker', workerId: 'dev-1', workerType: 'tester', status: 'active', at }).thenThrows(TicketWorkflowError).code).toBe(
      ERROR_CODES.workerAlreadyRegistered,
    );
  });

  it('stopping (finished or failed) is a coordinator event, and final', () => {
    const events = givenWorker([registered]).when({ type: 'ChangeWorkerStatus', status: 'failed', reason: 'out of memory', at }).events();
    expect(events).toEqual([
      { type: 'WorkerStatusChanged', data: { from: 'active', to: 'failed', reason: 'out of memory', at } },
      { type: 'WorkerStopped', data: { status: 'failed', reason: 'out of memory', at } },
    ]);
    const stopped = [registered, ...events];
    expect(givenWorker(stopped).when({ type: 'ChangeWorkerStatus', status: 'active', at }).thenThrows(TicketWorkflowError).code).toBe(ERROR_CODES.workerStopped);
    const processed = givenWorker(stopped).when({ type: 'MarkWorkerStopProcessed', at }).events();
    expect(processed).toEqual([{ type: 'WorkerStopProcessed', data: { at } }]);
    expect(givenWorker([...stopped, ...processed]).when({ type: 'MarkWorkerStopProcessed', at }).events()).toEqual([]);
  });

  it('moving between active and idle is not a stop; the same status is a no-op', () => {
    expect(givenWorker([registered]).when({ type: 'ChangeWorkerStatus', status: 'idle', at }).events().map((e) => e.type)).toEqual(['WorkerStatusChanged']);
    expect(givenWorker([registered]).when({ type: 'ChangeWorkerStatus', status: 'active', at }).events()).toEqual([]);
    expect(givenWorker([registered]).when({ type: 'MarkWorkerStopProcessed', at }).thenThrows(TicketWorkflowError).code).toBe(ERROR_CODES.eventNotFound);
  });
});

describe('template distribution', () => {
  const started: DistributionEvent = {
    type: 'TemplateDistributionStarted',
    data: { distributionId: 'd1', template: { name: 'audit', version: 'abc' }, targets: 2, force: false, baseDir: '/base', at },
  };
  const outcome = { target: '/base/web', project: 'web', projectId: null, directory: '/base/web' };

  it('records outcomes while running and finishes with counts', () => {
    const distributed: DistributionEvent = { type: 'TemplateDistributedToProject', data: { ...outcome, file: null, ticketId: 'WEB-001', at } };
    const failed: DistributionEvent = { type: 'TemplateDistributionFailedForProject', data: { ...outcome, target: '/base/api', project: 'api', reason: 'missing', at } };
    const finished = givenDistribution([started, distributed, failed]).when({ type: 'FinishDistribution', at }).events();
    expect(finished).toEqual([{ type: 'TemplateDistributionFinished', data: { succeeded: 1, failed: 1, skipped: 0, at } }]);
  });

  it('rolls back once', () => {
    const rolled = givenDistribution([started]).when({ type: 'RecordRollback', removed: [], kept: [], ticketsWithdrawn: [], at }).events();
    expect(rolled.map((e) => e.type)).toEqual(['TemplateDistributionRolledBack']);
    expect(givenDistribution([started, ...rolled]).when({ type: 'RecordRollback', removed: [], kept: [], ticketsWithdrawn: [], at }).thenThrows(TicketWorkflowError).code).toBe(
      ERROR_CODES.distributionAlreadyRolledBack,
    );
    expect(givenDistribution([]).when({ type: 'RecordRollback', removed: [], kept: [], ticketsWithdrawn: [], at }).thenThrows(TicketWorkflowError).code).toBe(ERROR_CODES.distributionNotFound);
  });
});
