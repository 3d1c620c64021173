import { describe, expect, it } from 'vitest';
import { REPLAY_TARGETS as OPERATOR_REPLAY_TARGETS } from '@fairlead/operator-api/cli';
import { ROLES } from '@fairlead/platform';
import { REPLAY_TARGETS, TOKEN_ROLES } from './valid-values';

describe('the valid values the help lists', () => {
  it('are the read models replay can rebuild', () => {
    expect([...REPLAY_TARGETS]).toEqual([...OPERATOR_REPLAY_TARGETS]);
  });

  it('are the roles the APIs know', () => {
    expect([...TOKEN_ROLES]).toEqual([...ROLES]);
  });
});
