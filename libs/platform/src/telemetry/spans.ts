/**
 * A span around a piece of our own work (an SMTP send, a relay publish), for code that
 * should not depend on OpenTelemetry itself. With tracing off the API's no-op tracer
 * makes this nearly free.
 */
import { context, trace } from '@opentelemetry/api';
import { inSpan, type SpanSpec } from './nats-propagator';

/** Runs `fn` inside a new span, a child of the active one; errors mark the span and are rethrown. */
export function withSpan<T>(name: string, fn: () => Promise<T>, options: { kind?: SpanSpec['kind']; attributes?: SpanSpec['attributes'] } = {}): Promise<T> {
  const spec: SpanSpec = { name, kind: options.kind ?? 'internal', ...(options.attributes ? { attributes: options.attributes } : {}) };
  return inSpan(trace.getTracer('@fairlead/platform'), spec, context.active(), fn);
}
