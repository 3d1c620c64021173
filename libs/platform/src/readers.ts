/**
 * The readers of the event log a process runs (its projections, the relay) made visible:
 * `/readyz` is not ready while one is stalled ("projection X stalled at position N …"),
 * gauges say which and where, and every process answers the operator API's status
 * request on `subjects.control('readers')` (no queue group: each process replies).
 */
import { randomUUID } from 'node:crypto';
import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import { Gauge, type Registry } from 'prom-client';
import type { ReaderStatus, ReaderStatusReply, Subjects } from '@fairlead/contracts';
import type { ReadinessCheck } from './http/readiness';

/** The statuses of a process's readers, now. */
export type ReaderSource = () => readonly ReaderStatus[];

/** "projection X stalled at position N (event …): why", or "relay stalled at …". */
export function stalledReaderMessage(reader: ReaderStatus): string | undefined {
  const s = reader.stalled;
  if (!s) return undefined;
  const who = reader.name === 'relay' ? 'relay' : `projection ${reader.name}`;
  return `${who} stalled at position ${s.global_position} (event ${s.event_id}, ${s.event_type} on ${s.stream}): ${s.error}`;
}

/** Not ready while any reader is stalled: what reads from it is stale, and an operator must act. */
export function readersReadiness(readers: ReaderSource, name = 'readers'): ReadinessCheck {
  return {
    name,
    check: async () => {
      const stalled = readers().flatMap((r) => stalledReaderMessage(r) ?? []);
      if (stalled.length > 0) throw new Error(stalled.join('; '));
    },
  };
}

/** `log_reader_stalled`, `log_reader_position`, `log_reader_parked_events`, by reader. */
export function registerReaderMetrics(registry: Registry, readers: ReaderSource): void {
  const each = (gauge: Gauge, value: (r: ReaderStatus) => number) => {
    gauge.reset();
    for (const r of readers()) gauge.set({ reader: r.name }, value(r));
  };
  new Gauge({
    name: 'log_reader_stalled',
    help: '1 while a reader of the event log (projection, relay) is stalled on an event it cannot handle',
    labelNames: ['reader'],
    registers: [registry],
    collect() {
      each(this, (r) => (r.state === 'stalled' ? 1 : 0));
    },
  });
  new Gauge({
    name: 'log_reader_position',
    help: 'Global position of the last event each reader of the log applied or published',
    labelNames: ['reader'],
    registers: [registry],
    collect() {
      each(this, (r) => Number(r.position.global_position));
    },
  });
  new Gauge({
    name: 'log_reader_parked_events',
    help: 'Events an operator parked for each reader of the log (skipped for good)',
    labelNames: ['reader'],
    registers: [registry],
    collect() {
      each(this, (r) => r.parked);
    },
  });
}

/** Answers status requests on `subjects.control('readers')` with this process's readers. */
export function serveReaderStatus(nc: NatsConnection, subjects: Subjects, options: { service: string; readers: ReaderSource; instance?: string }): { stop(): void } {
  const instance = options.instance ?? randomUUID();
  const sub: Subscription = nc.subscribe(subjects.control('readers'), {
    callback: (error, msg) => {
      if (error) return;
      const reply: ReaderStatusReply = { service: options.service, instance, readers: [...options.readers()] };
      msg.respond(JSON.stringify(reply));
    },
  });
  return { stop: () => sub.unsubscribe() };
}

/** Readiness check, metrics and status replies for a process's readers, in one call. */
export function exposeReaders(target: { nc: NatsConnection; subjects: Subjects; registry: Registry; service: string }, readers: ReaderSource): { readiness: ReadinessCheck; stop(): void } {
  registerReaderMetrics(target.registry, readers);
  const server = serveReaderStatus(target.nc, target.subjects, { service: target.service, readers });
  return { readiness: readersReadiness(readers), stop: () => server.stop() };
}
