/**
 * Intake asks rotation (the niches' owner) whether a lead's niche exists and whether it
 * distributes automatically: `get_niche` over NATS request/reply.
 */
import type { NatsConnection } from '@nats-io/nats-core';
import { rotationCommands, type Subjects } from '@fairlead/contracts';
import { isRemoteError, request } from '@fairlead/messaging';
import { RotationUnavailableError } from '../domain/errors';

export interface NicheInfo {
  auto_distribute: boolean;
}

export interface NicheDirectory {
  /** The niche, or null when rotation does not know it; throws RotationUnavailableError when rotation cannot say. */
  lookup(nicheId: string): Promise<NicheInfo | null>;
}

export function natsNicheDirectory({ nc, subjects, timeoutMs }: { nc: NatsConnection; subjects: Subjects; timeoutMs?: number }): NicheDirectory {
  return {
    lookup: async (nicheId) => {
      try {
        const niche = await request(nc, subjects.command('rotation', 'get_niche'), { niche_id: nicheId }, {
          responseSchema: rotationCommands.get_niche.reply,
          ...(timeoutMs ? { timeoutMs } : {}),
        });
        return { auto_distribute: niche.auto_distribute };
      } catch (error) {
        if (isRemoteError(error) && error.code === 'NICHE_NOT_FOUND') return null;
        throw new RotationUnavailableError(nicheId, { cause: error });
      }
    },
  };
}
