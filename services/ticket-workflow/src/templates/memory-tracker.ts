import { distributionDecider, type DistributionEvent, type DistributionState } from '../domain/index';
import type { DistributionTracker } from './ports';

/** Keeps distributions in memory; for previews and for exercising the engine without a database. */
export class InMemoryDistributionTracker implements DistributionTracker {
  private readonly streams = new Map<string, DistributionEvent[]>();

  async execute(distributionId: string, command: Parameters<DistributionTracker['execute']>[1]): Promise<void> {
    const events = this.streams.get(distributionId) ?? [];
    const decided = distributionDecider.decide(command, fold(events));
    this.streams.set(distributionId, [...events, ...decided]);
  }

  async load(distributionId: string): Promise<DistributionState | undefined> {
    const events = this.streams.get(distributionId);
    return events ? fold(events) : undefined;
  }

  async findPrevious(target: string, templateName: string): Promise<{ distributionId: string } | undefined> {
    let found: { distributionId: string } | undefined;
    for (const [distributionId, events] of this.streams) {
      const state = fold(events);
      if (state.status !== 'rolled_back' && state.template?.name === templateName && state.distributed.some((p) => p.target === target)) found = { distributionId };
    }
    return found;
  }
}

const fold = (events: readonly DistributionEvent[]): DistributionState => events.reduce(distributionDecider.evolve, distributionDecider.initialState());
