import { describe, expect, it } from 'vitest';
import { uuidV5Namespace } from './deterministic-id';

describe('uuidV5Namespace', () => {
  it('gives the RFC 4122 v5 id of a name, the same every time (ids already stored depend on it)', () => {
    // Pinned: the ids billing and fairness have written since their first release.
    expect(uuidV5Namespace('8e4a2c6b1d3f4e5a9b7c0d2e4f6a8b1c')('charge:lead-1:p1')).toBe('1f17be07-898e-5d85-8c21-42e6f30c767d');
    expect(uuidV5Namespace('6f0c1f3e-9a8b-4d2c-8e5f-7a1b2c3d4e5f')('distribution-completed:lead-1')).toBe('13882240-3f9d-55ca-bbd5-2ae4ca1f3ea3');
    // The well-known example: v5 of "www.example.com" in the DNS namespace.
    expect(uuidV5Namespace('6ba7b810-9dad-11d1-80b4-00c04fd430c8')('www.example.com')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });

  it('refuses a namespace that is not 16 bytes', () => {
    expect(() => uuidV5Namespace('abcd')).toThrow(/16 bytes/);
  });
});
