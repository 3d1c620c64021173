/**
 * Counts every message the NATS server routes (a `>` subscription on a connection of its
 * own), by kind: upstream publishes, relayed events, commands per service verb, pull
 * requests, acks, and the `_INBOX` traffic (replies, publish acks, ack confirmations). A
 * message a pull request receives keeps its own subject: it counts with its kind again
 * (a relayed event consumed by two services counts three times).
 * Used only while profiling: seeing everything costs the server a copy of each message.
 */
import type { NatsConnection, Subscription } from '@nats-io/nats-core';

export interface TrafficCounter {
  stop(): Record<string, number>;
}

function kindOf(subject: string, namespace: string): string {
  const s = namespace && subject.startsWith(`${namespace}.`) ? subject.slice(namespace.length + 1) : subject;
  if (s.startsWith('_INBOX.')) return '_INBOX (replies, publish acks, ack confirmations)';
  if (s.startsWith('$JS.ACK.')) return '$JS.ACK (consumer acks)';
  if (s.startsWith('$JS.API.CONSUMER.MSG.NEXT.')) return '$JS.API pull requests';
  if (s.startsWith('$JS.API.')) return '$JS.API other';
  if (s.startsWith('$JS.EVENT.')) return '$JS.EVENT advisories';
  if (s.startsWith('fairlead.cmd.')) return `command ${s.split('.').slice(2, 4).join('.')}`;
  if (s.startsWith('fairlead.events.')) return 'relayed events (fairlead.events.>: published, and delivered to pull requests)';
  if (s.startsWith('lead.approved')) return 'lead.approved (upstream publishes, and their deliveries)';
  return s.split('.').slice(0, 2).join('.');
}

export function countTraffic(nc: NatsConnection, namespace: string): TrafficCounter {
  const counts = new Map<string, number>();
  const sub: Subscription = nc.subscribe('>', {
    callback: (err, msg) => {
      if (err) return;
      const kind = kindOf(msg.subject, namespace);
      counts.set(kind, (counts.get(kind) ?? 0) + 1);
    },
  });
  return {
    stop: () => {
      sub.unsubscribe();
      return Object.fromEntries([...counts].sort((a, b) => b[1] - a[1]));
    },
  };
}
