import { describe, expect, it } from 'vitest';
import { DeciderSpecification } from './decider-specification';
import { accountDecider, AccountRefused } from './account.fixture';

const given = DeciderSpecification.for(accountDecider);
const opened = { type: 'Opened', data: { owner: 'ada' } } as const;

describe('DeciderSpecification', () => {
  it('then: the decided events, and the state after them', () => {
    const state = given([opened]).when({ type: 'deposit', amount: 5 }).then([{ type: 'Deposited', data: { amount: 5 } }]);
    expect(state).toEqual({ status: 'open', owner: 'ada', balance: 5 });
  });

  it('then fails, with a diff, when the events differ', () => {
    expect(() => given([opened]).when({ type: 'deposit', amount: 5 }).then([{ type: 'Deposited', data: { amount: 6 } }])).toThrow(/Expected values to be strictly deep-equal/);
  });

  it('thenThrows: the refusal of the given class, checked', () => {
    const error = given([opened]).when({ type: 'withdraw', amount: 1 }).thenThrows(AccountRefused, (e) => e.code === 'INSUFFICIENT');
    expect(error.message).toBe('balance 0 < 1');
  });

  it('thenThrows fails when the decider decides events instead, or refuses otherwise', () => {
    expect(() => given([opened]).when({ type: 'deposit', amount: 1 }).thenThrows(AccountRefused)).toThrow(/expected a refusal \(AccountRefused\)/);
    expect(() => given([]).when({ type: 'deposit', amount: 1 }).thenThrows(AccountRefused, (e) => e.code === 'INSUFFICIENT')).toThrow(/did not pass the check/);
    expect(() => given([]).when({ type: 'deposit', amount: 1 }).thenThrows(TypeError)).toThrow(/expected TypeError/);
  });

  it('thenNothingHappened: an idempotent command decides no event', () => {
    given([opened]).when({ type: 'open', owner: 'ada' }).thenNothingHappened();
    expect(() => given([]).when({ type: 'open', owner: 'ada' }).thenNothingHappened()).toThrow();
  });

  it('then rethrows the refusal it did not expect', () => {
    expect(() => given([]).when({ type: 'withdraw', amount: 1 }).then([])).toThrow(AccountRefused);
  });
});
