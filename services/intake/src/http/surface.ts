import type { HttpSurface } from '@fairlead/platform';
import type { IntakeService } from '../service';
import { registerIntakeRoutes } from './routes';

/** The intake process's HTTP API (main.ts serves it; the OpenAPI export reads its document). */
export function intakeHttp(service: Pick<IntakeService, 'commands' | 'stats'>): HttpSurface {
  return {
    title: 'Fairlead intake',
    description: 'Approved leads in (lead.approved v1), rejections with reasons, distribution requests.',
    routes: (app) => {
      registerIntakeRoutes(app, service.commands);
      app.get('/v1/intake/stats', { schema: { hide: true } }, async () => service.stats());
    },
  };
}
