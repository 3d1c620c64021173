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

  it('takes more of a busy key in push order, leaving other keys and the rest in place', () => {
    const q = new KeyedQueue<string>();
    ['a1', 'b1', 'a2', 'a3', 'b2', 'a4'].forEach((v) => q.push(v[0]!, v));
    expect(q.take()?.item).toBe('a1');
    expect(q.takeMore('a', 2)).toEqual(['a2', 'a3']);
    expect(q.pending).toBe(3);
    expect(q.take()?.item).toBe('b1');
    q.release('a');
    expect(q.take()?.item).toBe('a4');
    expect(q.takeMore('a', 10)).toEqual([]);
    expect(q.takeMore('b', 10)).toEqual(['b2']);
  });

  it('drains what was not taken, in order', () => {
    const q = new KeyedQueue<number>();
    [1, 2, 3].forEach((n) => q.push(`k${n % 2}`, n));
    q.take();
    expect(q.drain()).toEqual([2, 3]);
    expect(q.pending).toBe(0);
  });
});
