/**
 * The readers of the event log across the system — every process's projections and the
 * relay — as they report themselves: one request on `subjects.control('readers')`,
 * answered by every running process (platform's serveReaderStatus), gathered for a short
 * while. A process that does not answer is missing from the list (its /readyz says more).
 */
import type { NatsConnection } from '@nats-io/nats-core';
import { ReaderStatusReply, type ReaderStatus, type Subjects } from '@fairlead/contracts';

/** One reader as one process reports it. */
export interface ReaderEntry extends ReaderStatus {
  service: string;
  instance: string;
}

export interface LogReaders {
  /** Every reader that answered, by name then service. */
  list(): Promise<ReaderEntry[]>;
}

export interface LogReadersOptions {
  nc: NatsConnection;
  subjects: Subjects;
  /** How long replies are gathered (default 750 ms): every process answers at once, so this bounds the slowest. */
  waitMs?: number;
}

export function createLogReaders(options: LogReadersOptions): LogReaders {
  return {
    list: async () => {
      const entries: ReaderEntry[] = [];
      try {
        const replies = await options.nc.requestMany(options.subjects.control('readers'), '', { strategy: 'timer', maxWait: options.waitMs ?? 750 });
        for await (const msg of replies) {
          // A malformed answer is left out: it must not hide the others.
          const parsed = ReaderStatusReply.safeParse(safeJson(msg));
          if (!parsed.success) continue;
          for (const reader of parsed.data.readers) entries.push({ ...reader, service: parsed.data.service, instance: parsed.data.instance });
        }
      } catch (error) {
        // Nobody answering is an empty list, not a failure of the listing.
        if (!(error instanceof Error && /no responders|503/i.test(`${error.name} ${error.message}`))) throw error;
      }
      return entries.sort((a, b) => a.name.localeCompare(b.name) || a.service.localeCompare(b.service) || a.instance.localeCompare(b.instance));
    },
  };
}

function safeJson(msg: { json(): unknown }): unknown {
  try {
    return msg.json();
  } catch {
    return undefined;
  }
}
