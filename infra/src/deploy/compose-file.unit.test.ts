/** Compose's interpolation as compose-file.ts reads it: every form the specification lists, and what it refuses. */
import { describe, expect, it } from 'vitest';
import { interpolate, interpolationsIn, InterpolationError, resolveCompose } from './compose-file';

const env = { SET: 'value', EMPTY: '' };

describe('interpolate', () => {
  it('resolves plain, default, required and alternative forms as compose does', () => {
    expect(interpolate('a-${SET}-$SET-b', env)).toBe('a-value-value-b');
    expect(interpolate('${UNSET}', env)).toBe('');
    expect(interpolate('${EMPTY:-d} ${EMPTY-d} ${UNSET-d} ${SET:-d}', env)).toBe('d  d value');
    expect(interpolate('${SET:?needed} ${EMPTY?needed}', env)).toBe('value ');
    expect(interpolate('${SET:+alt} ${EMPTY:+alt} ${EMPTY+alt} ${UNSET+alt}', env)).toBe('alt  alt ');
    expect(interpolate('cost: $$5 and $${SET}', env)).toBe('cost: $5 and ${SET}');
    expect(interpolate('${SET:-a:b/c d}', {})).toBe('a:b/c d');
  });

  it('refuses a missing required value, naming the variable and its message', () => {
    expect(() => interpolate('${EMPTY:?set EMPTY please}', env)).toThrow(/EMPTY is missing a value: set EMPTY please/);
    expect(() => interpolate('${UNSET?x}', env)).toThrow(InterpolationError);
  });

  it('refuses what it cannot read rather than guessing', () => {
    expect(() => interpolate('${A:-${B}}', env)).toThrow(/nested interpolation/);
    expect(() => interpolate('${1BAD}', env)).toThrow(/invalid interpolation/);
    expect(() => interpolate('${A:=x}', env)).toThrow(/invalid interpolation/);
  });

  it('lists the interpolations of a text, not the escaped dollars', () => {
    expect(interpolationsIn('$$X ${A:?m} $B ${C:-7}')).toEqual([
      { name: 'A', operator: ':?', argument: 'm' },
      { name: 'B', operator: '', argument: '' },
      { name: 'C', operator: ':-', argument: '7' },
    ]);
  });
});

describe('resolveCompose', () => {
  it('applies YAML merge keys, resolves values (not keys) and collects the missing required variables', () => {
    const text = `
x-base: &base
  A: \${SET}
  B: \${NEED:?needed}
services:
  one:
    environment:
      <<: *base
      \${SET}: \${OTHER:?other}
`;
    const { compose, missing } = resolveCompose(text, env);
    expect(compose.services.one!.environment).toEqual({ A: 'value', B: '${NEED:?needed}', '${SET}': '${OTHER:?other}' });
    expect(missing).toEqual(['NEED', 'OTHER']);
  });
});
