/** Public entry of the fairness service, for the process (main.ts) and for tests that run it in-process. */
export { startFairnessService, type FairnessService, type FairnessServiceDeps, type FairnessConfig } from './service';
export { fairnessConfigSchema, type FairnessEnvConfig } from './config';
export type { RotationPort, BillingPort, ChargeRequest, StartLevelClaim } from './application/ports';
export { rebuildSubscriptionStats } from './projections/subscription-stats/subscription-stats';
export { fairnessHttp } from './http/surface';
