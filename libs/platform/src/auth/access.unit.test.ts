import { describe, expect, it } from 'vitest';
import { isAppError } from '../errors';
import { actorOf, authorize, type Access, type Principal, type Role } from './access';

const principal = (roles: Role[], mfa = true): Principal => ({ sub: 'alice', roles, mfa });

function verdict(p: Principal, access: Access): string {
  try {
    authorize(p, access);
    return 'ok';
  } catch (error) {
    if (isAppError(error) && error.status === 403) return error.code;
    throw error;
  }
}

describe('authorize', () => {
  it.each([
    // role,       read,             operate,              admin
    ['viewer', 'ok', 'ROLE_INSUFFICIENT', 'ROLE_INSUFFICIENT'],
    ['operator', 'ok', 'ok', 'ROLE_INSUFFICIENT'],
    ['admin', 'ok', 'ok', 'ok'],
  ] as const)('given a %s with MFA: read %s, operate %s, admin %s', (role, read, operate, admin) => {
    expect([verdict(principal([role]), 'read'), verdict(principal([role]), 'operate'), verdict(principal([role]), 'admin')]).toEqual([read, operate, admin]);
  });

  it('needs MFA for every change, never for reads', () => {
    expect(verdict(principal(['admin'], false), 'read')).toBe('ok');
    expect(verdict(principal(['admin'], false), 'operate')).toBe('MFA_REQUIRED');
    expect(verdict(principal(['admin'], false), 'admin')).toBe('MFA_REQUIRED');
  });

  it('refuses a token without a known role, even for reads', () => {
    expect(verdict(principal([]), 'read')).toBe('ROLE_REQUIRED');
  });

  it('uses the strongest of several roles, also as the recorded actor', () => {
    expect(verdict(principal(['viewer', 'admin']), 'admin')).toBe('ok');
    expect(actorOf(principal(['viewer', 'operator']))).toEqual({ actor_id: 'alice', actor_role: 'operator' });
  });
});
