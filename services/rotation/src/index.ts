/** Public entry of the rotation service, for the process (main.ts) and for tests that run it in-process. */
export { startRotationService, type RotationService, type RotationServiceDeps, type RotationConfig } from './service';
export { rotationConfigSchema, type RotationEnvConfig } from './config';
export type { RotationCommands } from './application/niche-commands';
export { rotationHttp } from './http/surface';
