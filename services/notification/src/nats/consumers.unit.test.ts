import { describe, expect, it } from 'vitest';
import { arrivalWindows } from './consumers';

describe('LeadAssigned consumer key: windows of arrival', () => {
  const clock = () => {
    let t = 1_000;
    return { now: () => t, advance: (ms: number) => void (t += ms) };
  };

  it('gives the messages arriving within the window one key, whichever lead they are of; the next window the next key', () => {
    const c = clock();
    const keyOf = arrivalWindows({ keys: 4, windowMs: 200, max: 32, now: c.now });
    const first = [keyOf(), keyOf(), keyOf(), keyOf()];
    c.advance(83);
    first.push(keyOf(), keyOf(), keyOf(), keyOf());
    c.advance(116);
    first.push(keyOf());
    expect(new Set(first)).toEqual(new Set(['window-0']));
    c.advance(1);
    expect(keyOf()).toBe('window-1');
  });

  it('closes a full window at once', () => {
    const c = clock();
    const keyOf = arrivalWindows({ keys: 4, windowMs: 200, max: 3, now: c.now });
    expect([keyOf(), keyOf(), keyOf(), keyOf(), keyOf(), keyOf(), keyOf()]).toEqual(['window-0', 'window-0', 'window-0', 'window-1', 'window-1', 'window-1', 'window-2']);
  });

  it('takes the keys in turn', () => {
    const c = clock();
    const keyOf = arrivalWindows({ keys: 3, windowMs: 10, max: 32, now: c.now });
    const keys = Array.from({ length: 7 }, () => {
      const key = keyOf();
      c.advance(10);
      return key;
    });
    expect(keys).toEqual(['window-0', 'window-1', 'window-2', 'window-0', 'window-1', 'window-2', 'window-0']);
  });
});
