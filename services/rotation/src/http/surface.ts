import type { HttpSurface } from '@fairlead/platform';

/** The rotation process's HTTP API: health, readiness, metrics and docs only; its commands travel over NATS. */
export const rotationHttp: HttpSurface = {
  title: 'Fairlead rotation',
  description: 'Niches, competition levels and the start-level rotation (commands over NATS).',
};
