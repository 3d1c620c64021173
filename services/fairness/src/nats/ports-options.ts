/** How the NATS clients of the ports reach rotation and billing. */
import type { NatsConnection } from '@nats-io/nats-core';
import type { Subjects } from '@fairlead/contracts';

export interface NatsPortsOptions {
  nc: NatsConnection;
  subjects: Subjects;
  /** How long to wait for rotation's and billing's replies (default 5000 ms). */
  timeoutMs?: number;
}
