/** Serves `intakeCommands` on `fairlead.cmd.intake.<verb>`; typed errors travel as their code. */
import type { NatsConnection } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import { intakeCommands as spec, type Subjects } from '@fairlead/contracts';
import { serveRequests, type RequestServer } from '@fairlead/messaging';
import type { IntakeCommands } from '../application/intake-commands';

export function serveIntakeCommands(nc: NatsConnection, subjects: Subjects, commands: IntakeCommands, logger: Logger): RequestServer {
  const subject = (verb: keyof typeof spec) => subjects.command('intake', verb);
  const servers = [
    // The request schema answers malformed payloads with INVALID_REQUEST and the issues; the
    // payload is parsed again by approve, which records what it accepts or rejects.
    serveRequests(nc, subject('approve_lead'), { requestSchema: spec.approve_lead.request, handler: (lead) => commands.approve(lead, { via: 'nats' }), logger }),
    serveRequests(nc, subject('request_distribution'), { requestSchema: spec.request_distribution.request, handler: commands.requestDistribution, logger }),
  ];
  return { stop: async () => void (await Promise.all(servers.map((s) => s.stop()))) };
}
