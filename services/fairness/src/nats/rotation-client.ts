/**
 * The RotationPort over NATS request/reply (contracts' rotationCommands). A refusal is read
 * by what it means — its status (the error catalogue) and, for the claims' own answers,
 * its code — never by how its code is spelled.
 */
import { rotationCommands, statusOfCode, type CommandReply } from '@fairlead/contracts';
import { isNoRespondersError, isRemoteError, PermanentError, request, type RemoteError } from '@fairlead/messaging';
import type { RotationPort, StartLevelClaim } from '../application/ports';
import type { NatsPortsOptions } from './ports-options';

/** Rotation's refusals that no retry can change: the niche does not exist, or the lead is another niche's. */
const isPermanentRefusal = (code: string, status: number): boolean => status === 404 || code === 'LEAD_CLAIMED_IN_OTHER_NICHE';
const isPermanentRemote = (error: unknown): error is RemoteError => isRemoteError(error) && isPermanentRefusal(error.code, error.status);

/** The most leads one claim_start_levels request carries (its schema's limit). */
const CLAIM_MANY_MAX = 500;

/** Rotation's refusal of a claim that no retry can change. */
const refusedClaim = (code: string, message: string, cause?: unknown): PermanentError =>
  new PermanentError(`rotation refused the claim: ${code}: ${message}`, { code, ...(cause ? { cause } : {}) });

/** Why one lead of claim_start_levels got no claim (an item's error carries its code only: the catalogue gives its status). */
const rotationRefusal = (code: string, message: string): Error =>
  isPermanentRefusal(code, statusOfCode(code)) ? refusedClaim(code, message) : Object.assign(new Error(`rotation could not claim: ${code}: ${message}`), { code });

export function natsRotation({ nc, subjects, timeoutMs }: NatsPortsOptions): RotationPort {
  const spec = rotationCommands.claim_start_level;
  const many = rotationCommands.claim_start_levels;
  // One request per lead, one after another: the claims must follow the order given.
  const claimInTurn = async (nicheId: string, leadIds: readonly string[]) => {
    const settled: PromiseSettledResult<StartLevelClaim | null>[] = [];
    for (const leadId of leadIds) {
      settled.push(await port.claimStartLevel(nicheId, leadId).then((value) => ({ status: 'fulfilled' as const, value }), (reason: unknown) => ({ status: 'rejected' as const, reason })));
    }
    return settled;
  };
  const port: RotationPort = {
    claimStartLevels: async (nicheId, leadIds) => {
      // Even one lead goes as claim_start_levels: two statements at rotation, a single claim three.
      if (leadIds.length === 0) return [];
      if (leadIds.length > CLAIM_MANY_MAX) return claimInTurn(nicheId, leadIds);
      let reply: CommandReply<'rotation', 'claim_start_levels'>;
      try {
        reply = await request(nc, subjects.command('rotation', 'claim_start_levels'), many.request.parse({ niche_id: nicheId, lead_ids: leadIds }), {
          responseSchema: many.reply,
          ...(timeoutMs ? { timeoutMs } : {}),
        });
      } catch (error) {
        // A rotation that does not serve the batch yet (a rolling upgrade): one request per lead, in order.
        if (isNoRespondersError(error)) return claimInTurn(nicheId, leadIds);
        if (isPermanentRemote(error)) throw refusedClaim(error.code, error.message, error);
        throw error;
      }
      if (reply.claims.length !== leadIds.length || reply.claims.some((c, i) => c.lead_id !== leadIds[i])) {
        throw new Error(`rotation answered claim_start_levels for niche ${nicheId} with claims that do not match the request`);
      }
      return reply.claims.map((c): PromiseSettledResult<StartLevelClaim | null> => {
        if ('error' in c) {
          if (c.error.code === 'NO_ACTIVE_LEVELS') return { status: 'fulfilled', value: null };
          return { status: 'rejected', reason: rotationRefusal(c.error.code, c.error.message) };
        }
        return { status: 'fulfilled', value: { startOrderPosition: c.start_order_position, traversal: c.traversal } };
      });
    },
    claimStartLevel: async (nicheId, leadId) => {
      let reply: CommandReply<'rotation', 'claim_start_level'>;
      try {
        reply = await request(nc, subjects.command('rotation', 'claim_start_level'), spec.request.parse({ niche_id: nicheId, lead_id: leadId }), {
          responseSchema: spec.reply,
          ...(timeoutMs ? { timeoutMs } : {}),
        });
      } catch (error) {
        if (isRemoteError(error) && error.code === 'NO_ACTIVE_LEVELS') return null;
        if (isPermanentRemote(error)) throw refusedClaim(error.code, error.message, error);
        throw error;
      }
      return { startOrderPosition: reply.start_order_position, traversal: reply.traversal };
    },
  };
  return port;
}
