import type { HttpSurface } from '@fairlead/platform';
import type { IntakeService } from '../service';
import { registerIntakeRoutes, type IntakeHttpAuth } from './routes';

/** The intake process's HTTP API (main.ts serves it; the OpenAPI export reads its document). */
export function intakeHttp(service: Pick<IntakeService, 'commands' | 'stats'>, auth: IntakeHttpAuth): HttpSurface {
  return {
    title: 'Fairlead intake',
    description:
      'Approved leads in (lead.approved v1; an upstream API key in X-Api-Key), rejections with reasons, distribution requests (an operator JWT with MFA).',
    securitySchemes: { bearerAuth: true, apiKeyAuth: true },
    routes: (app) => {
      registerIntakeRoutes(app, service.commands, auth);
      app.get('/v1/intake/stats', { config: { access: 'public' }, schema: { tags: ['intake'], description: 'Counters of the lead.approved consumer.' } }, async () => service.stats());
    },
  };
}
