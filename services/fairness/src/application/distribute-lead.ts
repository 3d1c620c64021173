/**
 * The distribution work item of one lead: a batch of one (see distribute-batch.ts, which
 * holds the whole algorithm). Load the lead's stream, take the next step the decider
 * names, record it, repeat until the outcome is recorded.
 */
import type { DistributionEventData } from '@fairlead/contracts';
import { distributeBatch, type DistributeLeadDeps, type DistributeLeadInput } from './distribute-batch';

export { ChargeFailedError, distributeBatch, type DistributeLeadDeps, type DistributeLeadInput, type DistributeOutcome } from './distribute-batch';

/** Runs the distribution of one lead to its outcome; returns the recorded DistributionCompleted. */
export async function distributeLead(deps: DistributeLeadDeps, input: DistributeLeadInput): Promise<DistributionEventData<'DistributionCompleted'>> {
  const [outcome] = await distributeBatch(deps, input.request.niche_id, [input]);
  if (!outcome) throw new Error('distributeBatch answered nothing');
  if (!outcome.ok) throw outcome.error;
  return outcome.completed;
}
