import { describe, expect, it } from 'vitest';
import type { StoredEvent } from '@fairlead/event-store';
import { checkpointId, parseCheckpointId, toLiveUpdate } from './live-updates';

const at = '2025-01-01T00:00:00.000Z';
const stored = (stream: string, type: string, data: Record<string, unknown>, position = 7n): StoredEvent => ({
  id: 'e',
  stream,
  type,
  data,
  metadata: {},
  streamVersion: 0,
  globalPosition: position,
  transactionId: 42n,
  createdAt: new Date(at),
});

describe('live updates', () => {
  it('turn ticket, task and worker events into public updates with a resumable id', () => {
    expect(toLiveUpdate(stored('ticket-WEB-001', 'TicketCreated', { ticketId: 'WEB-001', projectId: 'acme/web', title: 'T', executionPlan: ['a'], number: 1, priority: 'low', at }))).toEqual({
      id: '42.7',
      type: 'ticket_created',
      at,
      ticket_id: 'WEB-001',
      project_id: 'acme/web',
      title: 'T',
      execution_plan: ['a'],
    });
    expect(toLiveUpdate(stored('ticket-WEB-001', 'TicketTaskReleased', { taskId: 't', workerType: 'a', workerId: 'w', cause: 'lease_expired', reason: 'silent', at }))).toMatchObject({
      type: 'task_released',
      ticket_id: 'WEB-001',
      worker_id: 'w',
      cause: 'lease_expired',
    });
    expect(toLiveUpdate(stored('worker-w-1', 'WorkerStatusChanged', { from: 'active', to: 'failed', reason: 'oom', at }))).toMatchObject({ type: 'worker_status', worker_id: 'w-1', status: 'failed', previous: 'active' });
    expect(toLiveUpdate(stored('ticketgraph-all', 'TicketDependencyAdded', { ticketId: 'A-001', dependsOn: 'A-002', at }))).toMatchObject({ type: 'dependency_added', ticket_id: 'A-001', depends_on: 'A-002' });
  });

  it('leave out what clients need not see: comments and bookkeeping', () => {
    expect(toLiveUpdate(stored('ticket-WEB-001', 'TicketCommentAdded', { commentId: 'c', workerType: 'a', workerId: 'w', stageNumber: 1, content: 'secret plans', at }))).toBeUndefined();
    expect(toLiveUpdate(stored('projectkey-WEB', 'ProjectKeyReserved', { key: 'WEB', projectId: 'p', at }))).toBeUndefined();
  });

  it('ids round-trip to checkpoints; anything else is not an id', () => {
    expect(parseCheckpointId(checkpointId({ transactionId: 123n, globalPosition: 456n }))).toEqual({ transactionId: 123n, globalPosition: 456n });
    for (const bad of ['', '1', '1.2.3', 'a.b', '-1.2', '1.99999999999999999999', `${2n ** 64n}.1`]) expect(parseCheckpointId(bad), bad).toBeUndefined();
  });
});
