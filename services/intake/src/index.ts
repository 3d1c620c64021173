/** Public entry of the intake service, for the process (main.ts) and for tests that run it in-process. */
export { startIntakeService, type IntakeService, type IntakeServiceDeps, type IntakeConfig } from './service';
export { intakeConfigSchema, type IntakeEnvConfig } from './config';
export { registerIntakeRoutes } from './http/routes';
export type { IntakeCommands, ApproveReply, DistributionRequestReply } from './application/intake-commands';
export type { NicheDirectory, NicheInfo } from './application/niche-directory';
export { intakeHttp } from './http/surface';
