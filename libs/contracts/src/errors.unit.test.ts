import { describe, expect, it } from 'vitest';
import { ERROR_CATALOGUE, ERROR_KINDS, kindOfCode, kindOfStatus, statusOfCode } from './errors';

describe('the error catalogue', () => {
  it('gives each code its kind and the status of that kind', () => {
    expect(statusOfCode('PROVIDER_NOT_FOUND')).toBe(404);
    expect(statusOfCode('NICHE_VERSION_CONFLICT')).toBe(412);
    expect(statusOfCode('INVALID_REQUEST')).toBe(400);
    expect(kindOfCode('LEAD_CLAIMED_IN_OTHER_NICHE')).toBe('conflict');
  });

  it('a code it does not list has no kind and answers 500; inherited names are not codes', () => {
    expect(kindOfCode('SOMETHING_NEW')).toBeUndefined();
    expect(statusOfCode('SOMETHING_NEW')).toBe(500);
    expect(kindOfCode('toString')).toBeUndefined();
    expect(kindOfCode('__proto__')).toBeUndefined();
  });

  it('every kind has its own status, so a status names its kind back', () => {
    for (const [kind, status] of Object.entries(ERROR_KINDS)) expect(kindOfStatus(status)).toBe(kind);
    expect(kindOfStatus(418)).toBe('invalid');
    expect(kindOfStatus(599)).toBe('internal');
  });

  it('codes are stable upper-case identifiers', () => {
    for (const code of Object.keys(ERROR_CATALOGUE)) expect(code).toMatch(/^[A-Z][A-Z0-9_]*$/);
  });
});
