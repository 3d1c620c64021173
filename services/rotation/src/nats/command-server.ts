/** Serves `rotationCommands` on `fairlead.cmd.rotation.<verb>`; typed errors travel as their code. */
import type { NatsConnection } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import { rotationCommands as spec, type Subjects } from '@fairlead/contracts';
import { serveRequests, type RequestServer } from '@fairlead/messaging';
import type { RotationCommands } from '../application/niche-commands';

export function serveRotationCommands(nc: NatsConnection, subjects: Subjects, commands: RotationCommands, logger: Logger): RequestServer {
  const subject = (verb: keyof typeof spec) => subjects.command('rotation', verb);
  const servers = [
    serveRequests(nc, subject('create_niche'), { requestSchema: spec.create_niche.request, handler: commands.createNiche, logger }),
    serveRequests(nc, subject('update_niche'), { requestSchema: spec.update_niche.request, handler: commands.updateNiche, logger }),
    serveRequests(nc, subject('add_level'), { requestSchema: spec.add_level.request, handler: commands.addLevel, logger }),
    serveRequests(nc, subject('update_level'), { requestSchema: spec.update_level.request, handler: commands.updateLevel, logger }),
    serveRequests(nc, subject('get_niche'), { requestSchema: spec.get_niche.request, handler: commands.getNiche, logger }),
    serveRequests(nc, subject('claim_start_level'), { requestSchema: spec.claim_start_level.request, handler: commands.claimStartLevel, logger }),
    serveRequests(nc, subject('claim_start_levels'), { requestSchema: spec.claim_start_levels.request, handler: commands.claimStartLevels, logger }),
  ];
  return { stop: async () => void (await Promise.all(servers.map((s) => s.stop()))) };
}
