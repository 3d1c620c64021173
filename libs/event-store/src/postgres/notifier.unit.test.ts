import { describe, expect, it } from 'vitest';
import type { Queryable } from './append';
import { categoryOf, CommitNotifier, notifiedCategories, notifyPayload } from './notifier';

/** Records each NOTIFY; each stays on its way until the test releases it. */
function recordingDb() {
  const sent: { at: number; payload: string; release: () => void }[] = [];
  const db = {
    query: (q: { values: [string, string] }) => new Promise<void>((resolve) => sent.push({ at: Date.now(), payload: q.values[1], release: resolve })),
  } as unknown as Queryable;
  return { db, sent };
}
const until = async (probe: () => boolean) => {
  while (!probe()) await new Promise((r) => setTimeout(r, 1));
};

describe('CommitNotifier', () => {
  it('announces the first commit at once and folds commits made meanwhile into one more NOTIFY', async () => {
    const { db, sent } = recordingDb();
    const notifier = new CommitNotifier(db, 'ch', 0);
    notifier.committed();
    expect(sent).toHaveLength(1);
    notifier.committed();
    notifier.committed();
    notifier.committed();
    sent[0]!.release();
    await until(() => sent.length === 2);
    sent[1]!.release();
    await notifier.idle();
    expect(sent).toHaveLength(2);
  });

  it('under a steady stream sends at most one NOTIFY per interval', async () => {
    const { db, sent } = recordingDb();
    const notifier = new CommitNotifier(db, 'ch', 30);
    notifier.committed();
    sent[0]!.release();
    notifier.committed();
    await until(() => sent.length === 2);
    expect(sent[1]!.at - sent[0]!.at).toBeGreaterThanOrEqual(29);
    sent[1]!.release();
    await notifier.idle();
  });

  it('names the categories of the streams committed since the last NOTIFY, or none when a commit did not say', async () => {
    const { db, sent } = recordingDb();
    const notifier = new CommitNotifier(db, 'ch', 0);
    notifier.committed(['lead-1', 'wallet-p-1']);
    expect(sent[0]!.payload).toBe('lead,wallet');
    notifier.committed(['subscription-9']);
    notifier.committed(['lead-2']);
    sent[0]!.release();
    await until(() => sent.length === 2);
    expect(sent[1]!.payload).toBe('lead,subscription');
    notifier.committed(['lead-3']);
    notifier.committed();
    sent[1]!.release();
    await until(() => sent.length === 3);
    expect(sent[2]!.payload).toBe('');
    sent[2]!.release();
    await notifier.idle();
  });
  it('lets one append at a time carry the NOTIFY, only when idle and once the interval is over', async () => {
    const { db, sent } = recordingDb();
    const notifier = new CommitNotifier(db, 'ch', 30);
    expect(notifier.tryInline()).toBe(true);
    expect(notifier.tryInline()).toBe(false); // one on its way
    notifier.inlineDone();
    expect(notifier.tryInline()).toBe(false); // within the interval of the inline one
    notifier.committed(['lead-1']); // waits for the interval, then notifies on its own
    expect(sent).toHaveLength(0);
    await until(() => sent.length === 1);
    expect(notifier.tryInline()).toBe(false); // a NOTIFY on its way
    sent[0]!.release();
    await notifier.idle();
    await until(() => notifier.tryInline());
    notifier.inlineDone();
  });
});

describe('NOTIFY payloads', () => {
  it('list categories sorted, and fall back to "any" when too long to send', () => {
    expect(notifyPayload(new Set(['wallet', 'lead']))).toBe('lead,wallet');
    expect(notifyPayload(new Set())).toBe('');
    expect(notifyPayload(undefined)).toBe('');
    expect(notifyPayload(new Set(Array.from({ length: 2_000 }, (_, i) => `category${i}`)))).toBe('');
    expect(notifiedCategories('lead,wallet')).toEqual(['lead', 'wallet']);
    expect(notifiedCategories('')).toBeUndefined();
    expect(categoryOf('lead-abc-def')).toBe('lead');
  });
});
