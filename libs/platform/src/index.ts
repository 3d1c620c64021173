export {
  loadConfig,
  baseConfigSchema,
  env,
  deepFreeze,
  ConfigError,
  LOG_LEVELS,
  type BaseConfig,
  type ConfigProblem,
  type DeepReadonly,
  type LogLevel,
} from './config';
export { createLogger, redactSecrets, type Logger, type LoggerOptions } from './logger';
export {
  AppError,
  isAppError,
  NotFoundError,
  ValidationError,
  ConflictError,
  PreconditionFailedError,
  UnauthorizedError,
  ForbiddenError,
  toJsonPointer,
  type AppErrorOptions,
  type AppErrorSubclassOptions,
  type ValidationIssue,
} from './errors';
export { toProblem, problemType, ProblemSchema, PROBLEM_CONTENT_TYPE, type ProblemDetails, type ProblemAnswer, type ProblemContext } from './problem';
export { createHttpApp, listen, sendProblem, type HttpApp, type HttpAppOptions } from './http/app';
export { installRateLimit, type RateLimitOptions } from './http/rate-limit';
export { postgresReadiness, natsReadiness, runReadinessChecks, type ReadinessCheck, type CheckResult, type Queryable } from './http/readiness';
export { onShutdown, type ShutdownStep, type ShutdownOptions, type ShutdownHandle } from './shutdown';
export { createMetricsRegistry, registerMetricsRoute, type MetricsRegistryOptions } from './metrics';
export { registerConsumerMetrics, type ConsumerMetricsOptions, type ConsumerSource, type ConsumerPosition } from './consumer-metrics';
export { registerHttpMetrics } from './http/http-metrics';
export { withSpan } from './telemetry/spans';
export { ROLES, ACCESS_LEVELS, highestRole, needsMfa, authorize, actorOf, type Role, type Access, type Principal } from './auth/access';
export { createTokenVerifier, type TokenVerifier, type TokenVerifierOptions } from './auth/verify-token';
export { installAuth, principalOf, type ProtectedRoute, type InstallAuthOptions } from './auth/auth-hook';
export { defaultSecretFile, readSecretFile, loadOrCreateSecretFile } from './auth/dev-secret';
export { mintToken, type MintTokenOptions } from './auth/mint-token';
export { jwtConfigSchema, jwtInProduction, resolveTokenVerifierOptions, type JwtConfig, type ResolvedTokenVerifierOptions } from './auth/jwt-config';
export { KeyedMutex, Semaphore } from './concurrency';
export { exposeReaders, readersReadiness, registerReaderMetrics, serveReaderStatus, stalledReaderMessage, type ReaderSource } from './readers';
