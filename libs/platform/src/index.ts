export {
  loadConfig,
  baseConfigSchema,
  describeConfig,
  env,
  deepFreeze,
  ConfigError,
  LOG_LEVELS,
  type BaseConfig,
  type ConfigProblem,
  type ConfigVariable,
  type DeepReadonly,
  type LogLevel,
} from './config';
export { databaseConnection, databasePool, POOL_IDLE_TIMEOUT_MS, readPasswordFile, type DatabaseCredentials } from './database';
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
export { createServiceApp, type HttpSurface, type ServiceAppOptions } from './http/service-app';
export { deriveOperationId, withResponseHeaders, SELF_SERVER, type OpenApiServer } from './http/openapi';
export { DEFAULT_MAX_BODY_DEPTH } from './http/input-guard';
export { isDatabaseUnavailable } from './dependency-errors';
export { installRateLimit, type RateLimitOptions } from './http/rate-limit';
export { postgresReadiness, natsReadiness, runReadinessChecks, type ReadinessCheck, type CheckResult, type Queryable } from './http/readiness';
export { onShutdown, type ShutdownStep, type ShutdownOptions, type ShutdownHandle } from './shutdown';
export { createMetricsRegistry, registerMetricsRoute, type MetricsRegistryOptions } from './metrics';
export { registerConsumerMetrics, type ConsumerMetricsOptions, type ConsumerSource, type ConsumerPosition } from './consumer-metrics';
export { registerHttpMetrics } from './http/http-metrics';
export { withSpan } from './telemetry/spans';
export { telemetryEnvSchema } from './telemetry/env';
export { ROLES, ACCESS_LEVELS, highestRole, needsMfa, authorize, actorOf, type Role, type Access, type Principal } from './auth/access';
export { createTokenVerifier, type TokenVerifier, type TokenVerifierOptions } from './auth/verify-token';
export { installAuth, principalOf, type ProtectedRoute, type InstallAuthOptions, type RouteAccess } from './auth/auth-hook';
export { parseApiKeys, apiKeyDigest, createApiKeyVerifier, API_KEY_HEADER, type ApiKey, type ApiKeyVerifier, type UpstreamPrincipal } from './auth/api-keys';
export { upstreamKeyConfigSchema, upstreamKeysInProduction, resolveUpstreamKeys, defaultUpstreamKeyFile, type UpstreamKeyConfig, type ResolvedUpstreamKeys } from './auth/api-key-config';
export { defaultSecretFile, readSecretFile, loadOrCreateSecretFile } from './auth/dev-secret';
export { mintToken, type MintTokenOptions } from './auth/mint-token';
export { jwtConfigSchema, jwtInProduction, resolveTokenVerifierOptions, type JwtConfig, type ResolvedTokenVerifierOptions } from './auth/jwt-config';
export { exposeReaders, readersReadiness, registerReaderMetrics, serveReaderStatus, stalledReaderMessage, type ReaderSource } from './readers';
