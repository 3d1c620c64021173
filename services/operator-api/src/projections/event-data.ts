/**
 * An event's data, validated against its contract once per process: a page's event is
 * handed to several read models (a LeadAssigned to leads, decisions, assignments and
 * audit), and each used to run the same zod parse of it. The parsed value is shared, so
 * it is read-only; an event that fails validation is not remembered (each read model
 * that reads it fails, and stalls, as before).
 */
import { parseDistributionEvent, type DistributionEventData, type DistributionEventType } from '@fairlead/contracts';
import type { StoredEvent } from '@fairlead/event-store';

const parsed = new WeakMap<StoredEvent, { type: DistributionEventType; data: unknown }>();

export function eventData<T extends DistributionEventType>(type: T, event: StoredEvent): DistributionEventData<T> {
  const hit = parsed.get(event);
  if (hit?.type === type) return hit.data as DistributionEventData<T>;
  const data = parseDistributionEvent(type, event.data);
  parsed.set(event, { type, data });
  return data;
}
