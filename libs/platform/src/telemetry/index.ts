/**
 * `@fairlead/platform/telemetry`: tracing, importable before anything it instruments
 * (it loads neither pg nor fastify). Also re-exported by the package's main entry.
 */
export { startTelemetry, tracingRequested, type Telemetry, type TelemetryOptions } from './telemetry';
export { otelTracePropagator } from './nats-propagator';
export { withSpan } from './spans';
