import type { HttpSurface } from '@fairlead/platform';
import type { FairnessService } from '../service';

/** The fairness process's HTTP API (main.ts serves it; the OpenAPI export reads its document). */
export function fairnessHttp(service: Pick<FairnessService, 'stats'>): HttpSurface {
  return {
    title: 'Fairlead fairness',
    description: 'Lead distribution (eligibility, fairness, assignments) and subscriptions.',
    routes: (app) => app.get('/v1/distribution/stats', { schema: { tags: ['distribution'], summary: 'Counters of the distribution consumer' } }, async () => service.stats()),
  };
}
