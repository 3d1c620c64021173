import { describe, expect, it } from 'vitest';
import { ConcurrencyError } from '../errors';
import type { AppendResult } from '../types';
import type { AppendRequest, BatchOutcome } from './append';
import { GroupCommitter } from './group-commit';

const request = (stream: string, ...ids: string[]): AppendRequest => ({
  stream,
  events: ids.map((id) => ({ id, type: 'T', data: null })),
  expected: 'any',
});
const ok = (n: number): BatchOutcome => ({ ok: true, result: { nextExpectedVersion: n, lastGlobalPosition: BigInt(n), appended: 1 } });

/** A send() whose batches stay pending until the test releases them. */
function controlledSend() {
  const batches: { requests: AppendRequest[]; resolve: (o: BatchOutcome[]) => void; reject: (e: Error) => void }[] = [];
  const send = (requests: AppendRequest[]) => new Promise<BatchOutcome[]>((resolve, reject) => batches.push({ requests, resolve, reject }));
  const streams = (i: number) => batches[i]!.requests.map((r) => r.stream);
  return { batches, send, streams };
}
const tick = () => new Promise((r) => setImmediate(r));

describe('GroupCommitter', () => {
  it('sends at once while a slot is free, and groups what arrives while all slots are busy, ordered by stream', async () => {
    const { batches, send, streams } = controlledSend();
    const committer = new GroupCommitter(send, { maxInFlight: 1, maxEvents: 100 });
    const first = committer.append(request('s-1', 'a'));
    const queued = [committer.append(request('s-3', 'b')), committer.append(request('s-2', 'c')), committer.append(request('s-3', 'd'))];
    await tick();
    expect(batches).toHaveLength(1);
    expect(streams(0)).toEqual(['s-1']);
    batches[0]!.resolve([ok(0)]);
    await expect(first).resolves.toMatchObject({ nextExpectedVersion: 0 });
    await tick();
    expect(batches).toHaveLength(2);
    // Sorted by stream name (lock order); equal streams keep their arrival order.
    expect(batches[1]!.requests.map((r) => r.events[0]!.id)).toEqual(['c', 'b', 'd']);
    batches[1]!.resolve([ok(1), ok(2), ok(3)]);
    const results: AppendResult[] = await Promise.all(queued);
    expect(results.map((r) => r.nextExpectedVersion)).toEqual([2, 1, 3]);
  });

  it('never puts two appends with a common event id in one batch, and respects maxEvents', async () => {
    const { batches, send } = controlledSend();
    const committer = new GroupCommitter(send, { maxInFlight: 1, maxEvents: 3 });
    void committer.append(request('s-0', 'x'));
    void committer.append(request('s-1', 'a', 'b'));
    void committer.append(request('s-2', 'a', 'b'));
    void committer.append(request('s-3', 'c'));
    void committer.append(request('s-4', 'e', 'f'));
    await tick();
    batches[0]!.resolve([ok(0)]);
    await tick();
    expect(batches[1]!.requests.map((r) => r.stream)).toEqual(['s-1', 's-3']);
    batches[1]!.resolve([ok(1), ok(2)]);
    await tick();
    expect(batches[2]!.requests.map((r) => r.stream)).toEqual(['s-2']);
  });

  it('hands each append its own outcome: a conflict rejects only that caller', async () => {
    const { batches, send } = controlledSend();
    const committer = new GroupCommitter(send, { maxInFlight: 1, maxEvents: 100 });
    void committer.append(request('s-0', 'x'));
    const a = committer.append(request('s-1', 'a'));
    const b = committer.append(request('s-2', 'b'));
    await tick();
    batches[0]!.resolve([ok(0)]);
    await tick();
    batches[1]!.resolve([ok(4), { ok: false, error: new ConcurrencyError('s-2', 'any', 3) }]);
    await expect(a).resolves.toMatchObject({ nextExpectedVersion: 4 });
    await expect(b).rejects.toBeInstanceOf(ConcurrencyError);
  });

  it('when a whole batch fails, retries each of its appends alone so one bad append cannot fail the others', async () => {
    const { batches, send, streams } = controlledSend();
    const committer = new GroupCommitter(send, { maxInFlight: 1, maxEvents: 100 });
    void committer.append(request('s-0', 'x'));
    const good = committer.append(request('s-1', 'a'));
    const bad = committer.append(request('s-2', 'b'));
    await tick();
    batches[0]!.resolve([ok(0)]);
    await tick();
    batches[1]!.reject(new Error('boom'));
    await tick();
    expect(streams(2)).toEqual(['s-1']);
    batches[2]!.resolve([ok(7)]);
    await tick();
    expect(streams(3)).toEqual(['s-2']);
    batches[3]!.reject(new Error('bad append'));
    await expect(good).resolves.toMatchObject({ nextExpectedVersion: 7 });
    await expect(bad).rejects.toThrow('bad append');
  });

  it('keeps at most maxInFlight batches on their way', async () => {
    const { batches, send } = controlledSend();
    const committer = new GroupCommitter(send, { maxInFlight: 2, maxEvents: 100 });
    for (let i = 0; i < 6; i++) void committer.append(request(`s-${i}`, `e${i}`));
    await tick();
    expect(batches.map((b) => b.requests.length)).toEqual([1, 1]);
    batches[0]!.resolve([ok(0)]);
    await tick();
    expect(batches.map((b) => b.requests.length)).toEqual([1, 1, 4]);
  });
});
