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
export { postgresReadiness, natsReadiness, runReadinessChecks, type ReadinessCheck, type CheckResult, type Queryable } from './http/readiness';
export { onShutdown, type ShutdownStep, type ShutdownOptions, type ShutdownHandle } from './shutdown';
export { createMetricsRegistry, registerMetricsRoute, type MetricsRegistryOptions } from './metrics';
export { registerConsumerMetrics, type ConsumerMetricsOptions, type ConsumerSource, type ConsumerPosition } from './consumer-metrics';
export { registerHttpMetrics } from './http/http-metrics';
export { withSpan } from './telemetry/spans';
export { KeyedMutex, Semaphore } from './concurrency';
