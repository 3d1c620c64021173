import { z } from 'zod';
import { SafeText } from './safe-text';

/**
 * The body of every message the relay publishes on `fairlead.events.<category>.<Type>`:
 * one stored event. `Nats-Msg-Id` is the event id, so JetStream drops re-publishes.
 * Positions travel as decimal strings (they are 64-bit).
 */
export const RelayedEvent = z.object({
  event_id: SafeText.min(1),
  stream: SafeText.min(1),
  type: SafeText.min(1),
  stream_version: z.number().int().nonnegative(),
  global_position: z.string().regex(/^\d+$/),
  transaction_id: z.string().regex(/^\d+$/),
  created_at: SafeText,
  data: z.unknown(),
  metadata: z.record(z.string(), z.unknown()).default({}),
});
export type RelayedEvent = z.output<typeof RelayedEvent>;

/** Headers the relay sets besides Nats-Msg-Id (and trace context). */
export const RELAY_HEADERS = Object.freeze({
  eventType: 'Fairlead-Event-Type',
  stream: 'Fairlead-Stream',
  globalPosition: 'Fairlead-Global-Position',
});
