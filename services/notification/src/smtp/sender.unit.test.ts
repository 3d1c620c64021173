import { describe, expect, it } from 'vitest';
import { boundaryOf } from './sender';

describe('boundaryOf', () => {
  it("takes a multipart boundary's unique part from the Message-ID: its letters and digits, none when too short to be unique", () => {
    expect(boundaryOf('<3b5d7f91-c2e4-5a6b-9d0f-1e2a3b4c5d6e@fairlead.notification>')).toBe('3b5d7f91c2e45a6b9d0f1e2a3b4c5d6efairleadnotification');
    expect(boundaryOf('<a@b>')).toBeUndefined();
  });
});
