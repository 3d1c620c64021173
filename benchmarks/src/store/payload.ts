import { randomUUID } from 'node:crypto';

/** A lead-assignment-sized event (~250 bytes of JSON), the same for every contender. */
export function sampleEvent(stream: string, n: number) {
  return {
    id: randomUUID(),
    type: 'ProviderAssigned',
    data: { leadId: randomUUID(), providerId: `provider-${n % 97}`, level: 1 + (n % 3), priceCents: 1250, reason: 'lru order' },
    metadata: { correlationId: randomUUID(), stream },
  };
}
