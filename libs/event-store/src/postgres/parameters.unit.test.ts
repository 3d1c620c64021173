import { describe, expect, it } from 'vitest';
import { boundParameters } from './parameters';

describe('boundParameters', () => {
  it('numbers placeholders in the order values are bound', () => {
    const { param, values } = boundParameters();
    expect([param('a'), param(2), param(['x'])]).toEqual(['$1', '$2', '$3']);
    expect(values).toEqual(['a', 2, ['x']]);
  });

  it('binds after the values given first, without changing them', () => {
    const first = ['p1', 'p2'];
    const { param, values } = boundParameters(first);
    expect(param(true)).toBe('$3');
    expect(values).toEqual(['p1', 'p2', true]);
    expect(first).toEqual(['p1', 'p2']);
  });
});
