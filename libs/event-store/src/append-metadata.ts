/**
 * A process-wide hook that adds metadata to every appended event: telemetry puts the
 * active trace context there, so the relay can publish the event as a child of the span
 * that wrote it (the store sits between the writer and NATS; headers cannot cross it).
 * It runs when append() is called, in the caller's context, before any batching.
 */
import type { NewEvent } from './types';

/** Key of the W3C trace context (`traceparent`, `tracestate`) in an event's metadata. */
export const TRACE_METADATA_KEY = 'trace';

/** Returns metadata to add to the events of one append (their own keys win), or undefined. */
export type AppendMetadataHook = () => Record<string, unknown> | undefined;

let hook: AppendMetadataHook | undefined;

/** Installs the hook (undefined removes it); returns the previous one. */
export function setAppendMetadataHook(next: AppendMetadataHook | undefined): AppendMetadataHook | undefined {
  const previous = hook;
  hook = next;
  return previous;
}

/** The events with the hook's metadata merged in; the same array when there is nothing to add. */
export function withAppendMetadata(events: readonly NewEvent[]): readonly NewEvent[] {
  const extra = hook?.();
  if (!extra || Object.keys(extra).length === 0) return events;
  return events.map((event) => ({ ...event, metadata: { ...extra, ...event.metadata } }));
}

/** The trace context an event's metadata carries (string values only), or undefined. */
export function traceCarrierOf(metadata: Readonly<Record<string, unknown>> | undefined): Record<string, string> | undefined {
  const value = metadata?.[TRACE_METADATA_KEY];
  if (typeof value !== 'object' || value === null) return undefined;
  const carrier: Record<string, string> = {};
  for (const [key, v] of Object.entries(value)) if (typeof v === 'string') carrier[key] = v;
  return Object.keys(carrier).length > 0 ? carrier : undefined;
}
