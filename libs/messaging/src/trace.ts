import type { MsgHdrs } from '@nats-io/nats-core';

/**
 * Where trace context crosses NATS. Every outgoing message (publishDurable, request,
 * replies, dead letters) passes its headers through `inject`; every incoming one
 * (consumer runner, request handlers) runs its handler inside `withExtracted`.
 *
 * The OpenTelemetry adapter (libs/platform telemetry, a later issue) implements this with
 * `propagation.inject(context.active(), headers, setter)` and
 * `context.with(propagation.extract(ROOT_CONTEXT, headers, getter), fn)`; until then the
 * no-op below keeps the library free of an OTel dependency.
 */
export interface TracePropagator {
  /** Writes the active trace context into outgoing message headers. */
  inject(headers: MsgHdrs): void;
  /** Runs `fn` inside the trace context carried by incoming message headers. */
  withExtracted<T>(headers: MsgHdrs | undefined, fn: () => Promise<T>): Promise<T>;
}

const noopPropagator: TracePropagator = {
  inject: () => undefined,
  withExtracted: (_headers, fn) => fn(),
};

// Process-wide like OTel's own global propagator: telemetry is set up once at start-up,
// and threading it through every publish call would add nothing.
let current: TracePropagator = noopPropagator;

/** Installs the process-wide propagator (OpenTelemetry's, later); returns the previous one. */
export function setTracePropagator(propagator: TracePropagator): TracePropagator {
  const previous = current;
  current = propagator;
  return previous;
}

export function tracePropagator(): TracePropagator {
  return current;
}
