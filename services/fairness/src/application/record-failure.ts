/**
 * A failed distribution attempt is recorded on the lead's stream (DistributionFailed),
 * `final` when the work item goes to the dead-letter queue, so the lead's history shows
 * every attempt and operators see a lead that needs them.
 */
import { streams, type DistributionEventData } from '@fairlead/contracts';
import type { PostgresEventStore } from '@fairlead/event-store';
import { failedEvent } from '../domain/distribution-decider';
import { eventIds } from '../domain/ids';

export interface RecordFailureInput {
  request: DistributionEventData<'DistributionRequested'>;
  attempt: number;
  error: unknown;
  final: boolean;
  now: Date;
}

export async function recordDistributionFailure(store: PostgresEventStore, input: RecordFailureInput): Promise<void> {
  const { request } = input;
  const message = input.error instanceof Error ? `${input.error.name}: ${input.error.message}` : String(input.error);
  const data = failedEvent(request.lead_id, request.niche_id, { requestId: request.request_id, attempt: input.attempt, error: message, final: input.final, now: input.now });
  // 'any': a failure is a fact about an attempt, true whatever else the stream holds.
  await store.append(
    streams.lead(request.lead_id),
    [{ id: eventIds.failed(request.lead_id, request.request_id, input.attempt), type: 'DistributionFailed', data, metadata: { request_id: request.request_id, attempt: input.attempt } }],
    'any',
  );
}
