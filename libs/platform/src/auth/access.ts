/**
 * Who may do what, as pure functions, shared by every operator-facing API. Three roles,
 * ordered: a viewer reads; an operator also changes what operators run day to day (in the
 * operator API: distribute, top up, redrive; in ticket-workflow: every change); an admin
 * may do everything. Every change (any `operate` or `admin` route) also needs a token that
 * went through MFA (`amr` includes `mfa`).
 */
import { ForbiddenError } from '../errors';

export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** What a route needs: read (any role), operate (operator or admin, with MFA), admin (admin, with MFA). */
export const ACCESS_LEVELS = ['read', 'operate', 'admin'] as const;
export type Access = (typeof ACCESS_LEVELS)[number];

/** The authenticated caller, from a verified token. */
export interface Principal {
  /** The token's subject: the person or system acting; recorded as the actor of what they do. */
  sub: string;
  roles: readonly Role[];
  /** The token says MFA was used (`amr` includes `mfa`). */
  mfa: boolean;
  /** An upstream system identified by its API key (no roles), not a person with a token. */
  upstream?: true;
}

const RANK: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 };
const NEEDED: Record<Access, Role> = { read: 'viewer', operate: 'operator', admin: 'admin' };

/** The caller's strongest role, or undefined when the token names none we know. */
export function highestRole(roles: readonly Role[]): Role | undefined {
  let best: Role | undefined;
  for (const role of roles) if (best === undefined || RANK[role] > RANK[best]) best = role;
  return best;
}

export function needsMfa(access: Access): boolean {
  return access !== 'read';
}

/** Throws ForbiddenError (403) unless the principal may use a route of this access level. */
export function authorize(principal: Principal, access: Access): void {
  const role = highestRole(principal.roles);
  const needed = NEEDED[access];
  if (role === undefined) throw new ForbiddenError('The token carries no Fairlead role (viewer, operator or admin).', { code: 'ROLE_REQUIRED' });
  if (RANK[role] < RANK[needed]) {
    throw new ForbiddenError(`This needs the ${needed} role; the token has ${role}.`, { code: 'ROLE_INSUFFICIENT', details: { needed, role } });
  }
  if (needsMfa(access) && !principal.mfa) {
    throw new ForbiddenError('Changes need a token issued after multi-factor authentication (amr must include "mfa").', { code: 'MFA_REQUIRED' });
  }
}

/** The actor recorded in commands and the audit log (an upstream system is recorded as a `system` actor named `upstream:<key>`). */
export function actorOf(principal: Principal): { actor_id: string; actor_role: Role | 'system' } {
  if (principal.upstream) return { actor_id: principal.sub, actor_role: 'system' };
  return { actor_id: principal.sub, actor_role: highestRole(principal.roles) ?? 'viewer' };
}
