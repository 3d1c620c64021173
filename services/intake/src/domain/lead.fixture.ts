/** A lead and its stream's facts, for the lead decider's and the lead rules' unit tests. */
import { LeadApprovedV1, type DistributionEventData } from '@fairlead/contracts';

export const lead = LeadApprovedV1.parse({
  schema_version: 1,
  lead_id: 'lead-1',
  niche_id: 'roofing',
  approved_at: '2025-03-14T09:26:53.589+01:00',
  consumer: { name: 'Ada', email: 'ada@example.com' },
  location: { postal_code: '73301', state: 'tx' },
});
export const now = new Date('2025-03-14T10:00:00Z');
export const actor = { actor_id: 'ops', actor_role: 'operator' } as const;

export function completedData(request_id: string): DistributionEventData<'DistributionCompleted'> {
  return {
    lead_id: 'lead-1',
    niche_id: 'roofing',
    request_id,
    outcome: 'success',
    start_order_position: 1,
    traversal: [],
    assignments: [],
    skipped: [],
    duration_ms: 1,
    attempt: 1,
    completed_at: now.toISOString(),
  };
}
