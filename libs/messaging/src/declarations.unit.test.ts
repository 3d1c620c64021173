import { describe, expect, it } from 'vitest';
import { differingKeys } from './declarations';

describe('differingKeys', () => {
  it('compares only the declared keys, deeply', () => {
    const server = { name: 'S', subjects: ['a.>', 'b'], max_age: 0, duplicate_window: 120e9, storage: 'file', max_msgs: -1 };
    expect(differingKeys({ name: 'S', subjects: ['a.>', 'b'], duplicate_window: 120e9 }, server, ['name'])).toEqual([]);
    expect(differingKeys({ subjects: ['a.>'], duplicate_window: 300e9, storage: 'file' }, server)).toEqual(['duplicate_window', 'subjects']);
  });

  it('ignores keys declared as undefined', () => {
    expect(differingKeys({ description: undefined }, { description: 'x' })).toEqual([]);
  });
});
