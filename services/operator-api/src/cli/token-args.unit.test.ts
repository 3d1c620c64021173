import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseTokenArgs } from './token-args';

describe('npm run token arguments', () => {
  it('reads role, MFA, subject and lifetime', () => {
    expect(parseTokenArgs(['--role', 'admin', '--mfa', '--sub', 'alice', '--ttl', '1h'])).toEqual({ role: ['admin'], mfa: true, sub: 'alice', ttl: 3600 });
    expect(parseTokenArgs(['--role', 'viewer'])).toEqual({ role: ['viewer'], mfa: false, sub: 'dev', ttl: 3600 });
    expect(parseTokenArgs(['--role', 'viewer', '--role', 'operator', '--ttl', '90']).role).toEqual(['viewer', 'operator']);
    expect(parseTokenArgs(['--role', 'viewer', '--ttl', '15m', '--secret-file', '/tmp/s']).secretFile).toBe('/tmp/s');
  });

  it('refuses an unknown role, a missing role, a malformed or too long lifetime', () => {
    expect(() => parseTokenArgs(['--role', 'root'])).toThrow(z.ZodError);
    expect(() => parseTokenArgs([])).toThrow(/--role/);
    expect(() => parseTokenArgs(['--role', 'admin', '--ttl', 'soon'])).toThrow(z.ZodError);
    expect(() => parseTokenArgs(['--role', 'admin', '--ttl', '31d'])).toThrow(/30 days/);
  });

  it('refuses options it does not know', () => {
    expect(() => parseTokenArgs(['--role', 'admin', '--sudo'])).toThrow();
  });
});
