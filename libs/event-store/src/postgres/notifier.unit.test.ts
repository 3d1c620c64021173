import { describe, expect, it } from 'vitest';
import type { Queryable } from './append';
import { CommitNotifier } from './notifier';

/** Records each NOTIFY; each stays on its way until the test releases it. */
function recordingDb() {
  const sent: { at: number; release: () => void }[] = [];
  const db = {
    query: () => new Promise<void>((resolve) => sent.push({ at: Date.now(), release: resolve })),
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
});
