/**
 * The rotation commands (contracts' `rotationCommands`): configuration of niches and
 * levels, reads, and the start-level claims (one lead here, a batch in
 * claim-start-levels.ts). Each write decides on the niche's latest state inside the
 * repository's locked transaction.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { CommandReply, rotationCommands } from '@fairlead/contracts';
import type { z } from 'zod';
import { claimOf, type Claim } from '../domain/claim';
import { LevelExistsError, NicheNotFoundError } from '../domain/errors';
import type { Niche, NicheCommand, NicheState } from '../domain/niche';
import { createClaimStartLevels, type ClaimStartLevelsReply } from './claim-start-levels';
import { answerOf, claimsRaced, findClaim, recordClaimsStatement, retryingRaces } from './claims-table';
import type { NicheRepository } from './niche-repository';

type Req<V extends keyof typeof rotationCommands> = z.output<(typeof rotationCommands)[V]['request']>;
type NicheReply = CommandReply<'rotation', 'get_niche'>;

export interface RotationCommandsDeps {
  pool: pg.Pool;
  repository: NicheRepository;
  /** auto_distribute of a niche created without one. */
  autoDistributeDefault: boolean;
  newId?: () => string;
}

export interface RotationCommands {
  createNiche(request: Req<'create_niche'>): Promise<NicheReply>;
  updateNiche(request: Req<'update_niche'>): Promise<NicheReply>;
  addLevel(request: Req<'add_level'>): Promise<NicheReply>;
  updateLevel(request: Req<'update_level'>): Promise<NicheReply>;
  getNiche(request: Req<'get_niche'>): Promise<NicheReply>;
  claimStartLevel(request: Req<'claim_start_level'>): Promise<Claim>;
  /** claimStartLevel for each lead in order, under one lock of the niche and in one transaction; answers in request order. */
  claimStartLevels(request: Req<'claim_start_levels'>): Promise<ClaimStartLevelsReply>;
}

const toReply = (niche: Niche): NicheReply => ({
  niche_id: niche.niche_id,
  name: niche.name,
  auto_distribute: niche.auto_distribute,
  levels: niche.levels.map((l) => ({ ...l })),
  next_start_order_position: niche.next_start_order_position,
  version: niche.version,
});

const replyOf = (nicheId: string) => (state: NicheState) => {
  if (!state) throw new NicheNotFoundError(nicheId);
  return toReply(state);
};

export function createRotationCommands(deps: RotationCommandsDeps): RotationCommands {
  const { repository, pool } = deps;
  const newId = deps.newId ?? randomUUID;
  const claimOne = createClaimOne(repository, pool);

  const configure = async (command: NicheCommand, alongside?: (tx: pg.ClientBase) => Promise<void>): Promise<NicheReply> => {
    const { state } = await repository.write(command, { metadata: { actor: command.actor }, ...(alongside ? { alongside } : {}) });
    return replyOf(command.niche_id)(state.niche);
  };

  return {
    createNiche: (r) =>
      configure({
        type: 'create_niche',
        niche_id: r.niche_id ?? newId(),
        name: r.name,
        auto_distribute: r.auto_distribute ?? deps.autoDistributeDefault,
        actor: r.actor,
      }),

    updateNiche: (r) => configure({ type: 'update_niche', ...r }),

    addLevel: (r) => {
      const levelId = r.level_id ?? newId();
      return configure({ type: 'add_level', ...r, level_id: levelId }, async (tx) => {
        // Level ids are global: the row is the guard against a second niche using the same one.
        const inserted = await tx.query('insert into rotation.level_ids (level_id, niche_id) values ($1, $2) on conflict (level_id) do nothing', [levelId, r.niche_id]);
        if (inserted.rowCount === 0) throw new LevelExistsError(levelId, 'in another niche');
      });
    },

    updateLevel: (r) => configure({ type: 'update_level', ...r }),

    getNiche: async (r) => replyOf(r.niche_id)(await repository.load(r.niche_id)),

    claimStartLevel: ({ niche_id, lead_id }) => retryingRaces(() => claimOne(niche_id, lead_id)),

    claimStartLevels: createClaimStartLevels({ repository }),
  };
}

/** One lead's claim, once (retryingRaces asks again when it lost a race to another niche). */
function createClaimOne(repository: NicheRepository, pool: pg.Pool) {
  return async (niche_id: string, lead_id: string): Promise<Claim> => {
    const known = await findClaim(pool, lead_id);
    if (known) return answerOf(known, niche_id, lead_id);
    // Another request for this lead may claim while we wait for the lock: the decision reads its claim under the lock.
    const { state, events } = await repository
      .write(
        { type: 'claim_start_level', niche_id, lead_id },
        {
          metadata: { lead_id },
          // Claimed at the same moment under another niche's lock: that one stands, this one is undone
          // (ClaimsRacedError) and asked again, which answers LEAD_CLAIMED_IN_OTHER_NICHE from the row.
          alongsideStatement: ({ events: [claimed] }) => (claimed?.type === 'StartLevelClaimed' ? recordClaimsStatement(niche_id, [claimOf(claimed)]) : undefined),
        },
      )
      .catch((error: unknown) => {
        throw claimsRaced(error, niche_id);
      });
    const [claimed] = events;
    return claimed?.type === 'StartLevelClaimed' ? claimOf(claimed) : answerOf(state.claims.get(lead_id)!, niche_id, lead_id);
  };
}
