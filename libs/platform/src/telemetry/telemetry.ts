/**
 * OpenTelemetry tracing for a Fairlead process, configured by the standard OTEL_*
 * variables and off unless asked for: on when OTEL_EXPORTER_OTLP_ENDPOINT,
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT or OTEL_TRACES_EXPORTER (other than `none`) is set,
 * or when a test hands in an exporter; OTEL_SDK_DISABLED=true wins over all of them.
 *
 * When on it installs, process-wide: the SDK (tracer provider, AsyncLocalStorage context,
 * W3C propagators), spans for incoming HTTP requests and for PostgreSQL queries made
 * inside a trace, the NATS propagator of libs/messaging (context in message headers, a
 * span per consumer and request handler), and the event-store hook that writes the
 * active context into each appended event's metadata, which the relay reads to publish
 * the event as a child of the span that wrote it. Metrics stay with Prometheus (/metrics).
 */
import { createRequire } from 'node:module';
import { context, propagation } from '@opentelemetry/api';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { setAppendMetadataHook, TRACE_METADATA_KEY } from '@fairlead/event-store/append-metadata';
import { setTracePropagator } from '@fairlead/messaging';
import { otelTracePropagator } from './nats-propagator';

export interface TelemetryOptions {
  /** service.name of the spans (OTEL_SERVICE_NAME, when set, wins). */
  serviceName: string;
  /** Send spans here, at once, instead of where OTEL_* says (tests: an InMemorySpanExporter); turns tracing on. */
  exporter?: SpanExporter;
  /** The environment to read (default process.env). */
  env?: Readonly<Record<string, string | undefined>>;
}

export interface Telemetry {
  /** Whether tracing is on in this process. */
  readonly enabled: boolean;
  /** Exports the spans still buffered and stops the SDK (a shutdown step). */
  shutdown(): Promise<void>;
}

/** Whether the environment asks for tracing (see the module comment). */
export function tracingRequested(env: Readonly<Record<string, string | undefined>>): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '' && s !== 'none');
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim() || exporters.length > 0);
}

const IGNORED_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

let running: Promise<Telemetry> | undefined;

/**
 * Starts tracing when the environment (or `exporter`) asks for it; otherwise returns a
 * disabled handle and changes nothing (the SDK is not even loaded). Call it first in
 * main.ts. Once per process: a second call returns the first handle.
 */
export function startTelemetry(options: TelemetryOptions): Promise<Telemetry> {
  running ??= start(options);
  return running;
}

async function start(options: TelemetryOptions): Promise<Telemetry> {
  const env = options.env ?? process.env;
  if (options.exporter === undefined ? !tracingRequested(env) : env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') {
    return { enabled: false, shutdown: async () => void (running = undefined) };
  }
  const [{ NodeSDK }, { SimpleSpanProcessor }, { HttpInstrumentation }, { PgInstrumentation }] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/instrumentation-http'),
    import('@opentelemetry/instrumentation-pg'),
  ]);

  const sdk = new NodeSDK({
    serviceName: env.OTEL_SERVICE_NAME?.trim() || options.serviceName,
    ...(options.exporter ? { spanProcessors: [new SimpleSpanProcessor(options.exporter)] } : {}),
    // Prometheus serves the metrics and pino the logs: no OTel readers or log exporters.
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (request) => IGNORED_PATHS.has((request.url ?? '').split('?')[0] ?? ''),
        requireParentforOutgoingSpans: true,
      }),
      // Inside a trace only: the store's polls and LISTEN loop would otherwise make a root span each.
      new PgInstrumentation({ requireParentSpan: true, ignoreConnectSpans: true }),
    ],
  });
  sdk.start();
  preloadInstrumentedModules();

  const previousPropagator = setTracePropagator(otelTracePropagator());
  setAppendMetadataHook(() => {
    const carrier: Record<string, string> = {};
    propagation.inject(context.active(), carrier);
    return Object.keys(carrier).length > 0 ? { [TRACE_METADATA_KEY]: carrier } : undefined;
  });

  let stopped = false;
  return {
    enabled: true,
    shutdown: async () => {
      if (stopped) return;
      stopped = true;
      setTracePropagator(previousPropagator);
      setAppendMetadataHook(undefined);
      running = undefined;
      await sdk.shutdown();
    },
  };
}

/**
 * The instrumentations patch a module when it is next require()d. Under ESM (tsx) the
 * services import pg, and fastify loads node:http, possibly before startTelemetry ran;
 * requiring them here makes the patches land on the shared CJS module objects (their
 * prototypes), whatever the import order was.
 */
function preloadInstrumentedModules(): void {
  const require = createRequire(import.meta.url);
  for (const id of ['node:http', 'node:https', 'pg', 'pg-pool']) {
    try {
      require(id);
    } catch {
      // Not installed where this library is: nothing to patch.
    }
  }
}
