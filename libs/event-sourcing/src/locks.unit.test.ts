import { describe, expect, it } from 'vitest';
import { KeyedMutex, Semaphore } from './locks';

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('KeyedMutex', () => {
  it('runs tasks of one key one at a time in arrival order, keys in parallel, and survives failures', async () => {
    const mutex = new KeyedMutex();
    const log: string[] = [];
    const task = (key: string, n: number, fail = false) =>
      mutex.run(key, async () => {
        log.push(`${key}${n}+`);
        await tick();
        log.push(`${key}${n}-`);
        if (fail) throw new Error('boom');
        return n;
      });
    const results = await Promise.allSettled([task('a', 1, true), task('a', 2), task('b', 1)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'fulfilled']);
    // a2 starts only after a1 ended; b1 overlaps a1.
    expect(log.indexOf('a2+')).toBeGreaterThan(log.indexOf('a1-'));
    expect(log.indexOf('b1+')).toBeLessThan(log.indexOf('a1-'));
  });
});

describe('Semaphore', () => {
  it('never runs more than its limit at once', async () => {
    const semaphore = new Semaphore(2);
    let running = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 7 }, () =>
        semaphore.run(async () => {
          running++;
          peak = Math.max(peak, running);
          await tick();
          running--;
        }),
      ),
    );
    expect(peak).toBe(2);
  });

  it('refuses a limit below one', () => {
    expect(() => new Semaphore(0)).toThrow(/positive limit/);
  });
});
