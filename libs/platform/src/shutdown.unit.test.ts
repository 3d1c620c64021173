import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { onShutdown } from './shutdown';

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined };

function harness() {
  const signals = new EventEmitter();
  const exits: number[] = [];
  let exited!: (code: number) => void;
  const exitedOnce = new Promise<number>((r) => (exited = r));
  return {
    signals,
    exits,
    exitedOnce,
    exit: (code: number) => {
      exits.push(code);
      exited(code);
    },
  };
}

describe('onShutdown', () => {
  it('runs the steps in order on SIGTERM, then exits 0', async () => {
    const h = harness();
    const order: string[] = [];
    onShutdown(
      [
        { name: 'http', run: async () => void order.push('http') },
        { name: 'consumers', run: () => void order.push('consumers') },
        { name: 'pool', run: async () => void order.push('pool') },
      ],
      { logger: silent, exit: h.exit, signalSource: h.signals as unknown as NodeJS.Process },
    );
    h.signals.emit('SIGTERM', 'SIGTERM');
    expect(await h.exitedOnce).toBe(0);
    expect(order).toEqual(['http', 'consumers', 'pool']);
  });

  it('keeps going after a failing step and exits 1', async () => {
    const h = harness();
    const order: string[] = [];
    onShutdown(
      [
        { name: 'http', run: () => Promise.reject(new Error('boom')) },
        { name: 'pool', run: () => void order.push('pool') },
      ],
      { logger: silent, exit: h.exit, signalSource: h.signals as unknown as NodeJS.Process },
    );
    h.signals.emit('SIGINT', 'SIGINT');
    expect(await h.exitedOnce).toBe(1);
    expect(order).toEqual(['pool']);
  });

  it('exits 1 when the steps outlast the timeout', async () => {
    const h = harness();
    onShutdown([{ name: 'stuck', run: () => new Promise(() => undefined) }], {
      logger: silent,
      timeoutMs: 30,
      exit: h.exit,
      signalSource: h.signals as unknown as NodeJS.Process,
    });
    h.signals.emit('SIGTERM', 'SIGTERM');
    expect(await h.exitedOnce).toBe(1);
  });

  it('runs once; a second signal exits at once with 1', async () => {
    const h = harness();
    let runs = 0;
    let release!: () => void;
    const handle = onShutdown([{ name: 'drain', run: () => new Promise<void>((r) => ((runs += 1), (release = r))) }], {
      logger: silent,
      exit: h.exit,
      signalSource: h.signals as unknown as NodeJS.Process,
    });
    const first = handle.shutdown('fatal error');
    h.signals.emit('SIGTERM', 'SIGTERM');
    expect(h.exits).toEqual([1]);
    release();
    expect(await first).toBe(0);
    expect(runs).toBe(1);
    expect(await handle.shutdown('again')).toBe(0);
    expect(runs).toBe(1);
  });

  it('dispose removes the signal handlers', () => {
    const h = harness();
    const handle = onShutdown([], { logger: silent, exit: h.exit, signalSource: h.signals as unknown as NodeJS.Process });
    expect(h.signals.listenerCount('SIGTERM')).toBe(1);
    handle.dispose();
    expect(h.signals.listenerCount('SIGTERM')).toBe(0);
    expect(h.signals.listenerCount('SIGINT')).toBe(0);
  });
});
