/** Serves `fairnessCommands` on `fairlead.cmd.fairness.<verb>`; typed errors travel as their code. */
import type { NatsConnection } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import { fairnessCommands, type Subjects } from '@fairlead/contracts';
import { serveRequests, type RequestServer } from '@fairlead/messaging';
import type { SubscriptionCommands } from '../application/subscription-commands';

export function serveSubscriptionCommands(nc: NatsConnection, subjects: Subjects, commands: SubscriptionCommands, logger: Logger): RequestServer {
  const subject = (verb: keyof typeof fairnessCommands) => subjects.command('fairness', verb);
  const servers = [
    serveRequests(nc, subject('create_subscription'), { requestSchema: fairnessCommands.create_subscription.request, handler: commands.create, logger }),
    serveRequests(nc, subject('update_subscription'), { requestSchema: fairnessCommands.update_subscription.request, handler: commands.update, logger }),
    serveRequests(nc, subject('set_subscription_status'), { requestSchema: fairnessCommands.set_subscription_status.request, handler: commands.setStatus, logger }),
    serveRequests(nc, subject('get_subscription'), { requestSchema: fairnessCommands.get_subscription.request, handler: commands.get, logger }),
  ];
  return { stop: async () => void (await Promise.all(servers.map((s) => s.stop()))) };
}
