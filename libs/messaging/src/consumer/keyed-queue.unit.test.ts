import { describe, expect, it } from 'vitest';
import { KeyedQueue } from './keyed-queue';

describe('KeyedQueue', () => {
  it('hands out one item per key at a time, oldest idle key first', () => {
    const q = new KeyedQueue<string>();
    q.push('a', 'a1');
    q.push('a', 'a2');
    q.push('b', 'b1');
    q.push('a', 'a3');
    expect(q.take()?.item).toBe('a1');
    // a is busy: the next is b's, not a2
    expect(q.take()?.item).toBe('b1');
    expect(q.take()).toBeUndefined();
    q.release('a');
    expect(q.take()?.item).toBe('a2');
    q.release('b');
    expect(q.take()).toBeUndefined();
    q.release('a');
    expect(q.take()?.item).toBe('a3');
    expect(q.pending).toBe(0);
    expect(q.busy).toBe(1);
  });

  it('drains what was not taken, in order', () => {
    const q = new KeyedQueue<number>();
    [1, 2, 3].forEach((n) => q.push(`k${n % 2}`, n));
    q.take();
    expect(q.drain()).toEqual([2, 3]);
    expect(q.pending).toBe(0);
  });
});
