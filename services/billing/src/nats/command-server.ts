/**
 * Serves `billingCommands` on `fairlead.cmd.billing.<verb>`; typed errors travel as their code.
 * The server decides who may send what (libs/contracts' bus-permissions.ts): top-ups,
 * refunds and provider changes come only from the operator API, so their `actor` is the
 * operator it verified; charges only from fairness.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import { billingCommands as spec, type Subjects } from '@fairlead/contracts';
import { serveRequests, type RequestServer } from '@fairlead/messaging';
import type { ProviderCommands } from '../application/provider-commands';
import type { WalletCommands } from '../application/wallet-commands';

export function serveBillingCommands(nc: NatsConnection, subjects: Subjects, providers: ProviderCommands, wallets: WalletCommands, logger: Logger): RequestServer {
  const subject = (verb: keyof typeof spec) => subjects.command('billing', verb);
  const servers = [
    serveRequests(nc, subject('register_provider'), { requestSchema: spec.register_provider.request, handler: providers.register, logger }),
    serveRequests(nc, subject('update_provider'), { requestSchema: spec.update_provider.request, handler: providers.update, logger }),
    serveRequests(nc, subject('get_provider'), { requestSchema: spec.get_provider.request, handler: providers.get, logger }),
    serveRequests(nc, subject('top_up'), { requestSchema: spec.top_up.request, handler: wallets.topUp, logger }),
    serveRequests(nc, subject('charge'), { requestSchema: spec.charge.request, handler: wallets.charge, logger }),
    serveRequests(nc, subject('charge_many'), { requestSchema: spec.charge_many.request, handler: wallets.chargeMany, logger }),
    serveRequests(nc, subject('charge_batch'), { requestSchema: spec.charge_batch.request, handler: wallets.chargeBatch, logger }),
    serveRequests(nc, subject('refund'), { requestSchema: spec.refund.request, handler: wallets.refund, logger }),
  ];
  return { stop: async () => void (await Promise.all(servers.map((s) => s.stop()))) };
}
