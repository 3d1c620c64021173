/**
 * The OpenTelemetry side of libs/messaging's TracePropagator: W3C trace context
 * (`traceparent`, `tracestate`, `baggage`) in NATS headers, and a span around every
 * consumer and request handler, child of the context the message carried.
 */
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type TextMapGetter, type Tracer } from '@opentelemetry/api';
import type { MsgHdrs } from '@nats-io/nats-core';
import type { TraceCarrier, TracePropagator, TraceSpan } from '@fairlead/messaging';

const isMsgHdrs = (carrier: TraceCarrier): carrier is MsgHdrs => typeof (carrier as MsgHdrs).keys === 'function' && typeof (carrier as MsgHdrs).get === 'function';

const getter: TextMapGetter<TraceCarrier> = {
  keys: (carrier) => (isMsgHdrs(carrier) ? carrier.keys() : Object.keys(carrier)),
  get: (carrier, key) => {
    if (isMsgHdrs(carrier)) return carrier.has(key) ? carrier.get(key) : undefined;
    return (carrier as Readonly<Record<string, string>>)[key];
  },
};

/** A span to open: messaging's kinds, `client` for a call out (SMTP), or `internal` for our own work. */
export interface SpanSpec extends Omit<TraceSpan, 'kind'> {
  kind: TraceSpan['kind'] | 'client' | 'internal';
}

const KINDS: Record<SpanSpec['kind'], SpanKind> = {
  consumer: SpanKind.CONSUMER,
  server: SpanKind.SERVER,
  producer: SpanKind.PRODUCER,
  client: SpanKind.CLIENT,
  internal: SpanKind.INTERNAL,
};

/** Runs `fn` in a new active span, child of `parent`; an error marks the span and is rethrown. */
export async function inSpan<T>(tracer: Tracer, span: SpanSpec, parent: Context, fn: () => Promise<T>): Promise<T> {
  return tracer.startActiveSpan(span.name, { kind: KINDS[span.kind], ...(span.attributes ? { attributes: span.attributes } : {}) }, parent, async (active) => {
    try {
      return await fn();
    } catch (error) {
      active.recordException(error instanceof Error ? error : String(error));
      active.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      throw error;
    } finally {
      active.end();
    }
  });
}

export function otelTracePropagator(tracer: Tracer = trace.getTracer('@fairlead/messaging')): TracePropagator {
  return {
    inject: (headers) => propagation.inject(context.active(), headers, { set: (h, key, value) => h.set(key, value) }),
    withExtracted: (carrier, fn, span) => {
      // A message without trace context starts a trace of its own, not a child of whatever
      // happened to be active when the client's socket delivered it.
      const parent = carrier ? propagation.extract(ROOT_CONTEXT, carrier, getter) : ROOT_CONTEXT;
      return span ? inSpan(tracer, span, parent, fn) : context.with(parent, fn);
    },
  };
}
