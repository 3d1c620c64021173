/** Drives concurrent writers for a fixed time and reports events per second. */

export interface Measurement {
  events: number;
  seconds: number;
  perSecond: number;
  /** Optimistic-concurrency conflicts that were retried. */
  conflicts: number;
}

/** One writer: performs one operation and says how many events it wrote (0 after a conflict). */
export type WriterOp = () => Promise<number>;

export interface RunOptions {
  writers: number;
  durationMs: number;
  /** Untimed run first, so prepared statements, caches and JIT are warm. */
  warmupMs: number;
}

export async function measure(makeWriter: (index: number) => WriterOp, options: RunOptions): Promise<Measurement> {
  const ops = Array.from({ length: options.writers }, (_, i) => makeWriter(i));
  await drive(ops, options.warmupMs);
  const started = process.hrtime.bigint();
  const { events, conflicts } = await drive(ops, options.durationMs);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { events, seconds, perSecond: events / seconds, conflicts };
}

async function drive(ops: WriterOp[], durationMs: number): Promise<{ events: number; conflicts: number }> {
  const deadline = Date.now() + durationMs;
  let events = 0;
  let conflicts = 0;
  await Promise.all(
    ops.map(async (op) => {
      while (Date.now() < deadline) {
        const written = await op();
        if (written === 0) conflicts++;
        events += written;
      }
    }),
  );
  return { events, conflicts };
}
