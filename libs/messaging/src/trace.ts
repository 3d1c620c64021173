import type { MsgHdrs } from '@nats-io/nats-core';

/**
 * Where trace context travels: NATS message headers, or a plain key → value record
 * (the trace context an event carries in its metadata, read by the relay).
 */
export type TraceCarrier = MsgHdrs | Readonly<Record<string, string>>;

/** The span to open around a handler run inside extracted context. */
export interface TraceSpan {
  /** e.g. `process fairlead.events.lead.DistributionRequested`. */
  name: string;
  /** consumer: a JetStream consumer's handler; server: a request handler; producer: a publish (the relay). */
  kind: 'consumer' | 'server' | 'producer';
  attributes?: Readonly<Record<string, string | number | boolean>>;
}

/**
 * Where trace context crosses NATS. Every outgoing message (publishDurable, request,
 * replies, dead letters) passes its headers through `inject`; every incoming one
 * (consumer runner, request handlers) runs its handler inside `withExtracted`, which
 * opens a span when told which.
 *
 * The OpenTelemetry adapter lives in libs/platform (startTelemetry installs it); the
 * no-op below keeps this library free of an OTel dependency.
 */
export interface TracePropagator {
  /** Writes the active trace context into outgoing message headers. */
  inject(headers: MsgHdrs): void;
  /** Runs `fn` inside the trace context the carrier holds, in a span of its own when `span` is given. */
  withExtracted<T>(carrier: TraceCarrier | undefined, fn: () => Promise<T>, span?: TraceSpan): Promise<T>;
}

const noopPropagator: TracePropagator = {
  inject: () => undefined,
  withExtracted: (_carrier, fn) => fn(),
};

// Process-wide like OTel's own global propagator: telemetry is set up once at start-up,
// and threading it through every publish call would add nothing.
let current: TracePropagator = noopPropagator;

/** Installs the process-wide propagator (OpenTelemetry's, from startTelemetry); returns the previous one. */
export function setTracePropagator(propagator: TracePropagator): TracePropagator {
  const previous = current;
  current = propagator;
  return previous;
}

export function tracePropagator(): TracePropagator {
  return current;
}
