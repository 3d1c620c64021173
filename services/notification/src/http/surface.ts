import type { HttpSurface, TokenVerifier } from '@fairlead/platform';
import type { NotificationService } from '../service';

/** The notification process's HTTP API (main.ts serves it; the OpenAPI export reads its document). */
export function notificationHttp(service: Pick<NotificationService, 'mode' | 'catcher' | 'stats' | 'registerRoutes'>, auth: { verify: TokenVerifier }): HttpSurface {
  return {
    title: 'Fairlead notification',
    description: 'Provider emails: the outbox, the local mail catcher (an operator JWT, any role), metrics.',
    securitySchemes: { bearerAuth: true },
    // The service registers /metrics with its own routes.
    metricsRoute: false,
    routes: (app) => {
      service.registerRoutes(app, auth);
      app.get(
        '/v1/notification/stats',
        { config: { access: 'public' }, schema: { tags: ['notification'], description: 'Counters of the notification consumers.' } },
        async () => ({
          mode: service.mode,
          catcher_smtp: service.catcher?.url ?? null,
          consumers: service.stats(),
        }),
      );
    },
  };
}
