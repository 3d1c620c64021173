import pg from 'pg';

export interface Leadership {
  /** Resolves once this instance holds the lock; rejects if abort() was called first. */
  acquired: Promise<void>;
  /** Resolves when the lock is lost (its connection ended) or released. */
  lost: Promise<void>;
  isLeader(): boolean;
  release(): Promise<void>;
}

/**
 * Only one relay publishes at a time: the leader holds a session-level PostgreSQL advisory
 * lock on a connection of its own. A second instance polls until the lock is free; when
 * the leader dies (even by kill -9), PostgreSQL ends its session and frees the lock.
 */
export function acquireLeadership(connection: string | pg.ClientConfig, lockKey: bigint, { pollMs = 500 } = {}): Leadership {
  const client = new pg.Client({ ...(typeof connection === 'string' ? { connectionString: connection } : connection), keepAlive: true });
  let leader = false;
  let stopped = false;
  // Ends the wait between two tries at once when release() comes.
  let wake: (() => void) | undefined;
  let resolveLost!: () => void;
  const lost = new Promise<void>((r) => (resolveLost = r));
  client.on('error', () => {
    leader = false;
    resolveLost();
  });
  client.on('end', () => {
    leader = false;
    resolveLost();
  });

  const acquired = (async () => {
    await client.connect();
    while (!stopped) {
      const { rows } = await client.query<{ locked: boolean }>('select pg_try_advisory_lock($1) as locked', [lockKey.toString()]);
      if (rows[0]?.locked) {
        leader = true;
        return;
      }
      await new Promise<void>((r) => {
        const timer = setTimeout(r, pollMs);
        wake = () => {
          clearTimeout(timer);
          r();
        };
      });
      wake = undefined;
    }
    throw new Error('leadership abandoned before it was acquired');
  })();
  // The caller may never await it when release() comes first.
  acquired.catch(() => undefined);

  return {
    acquired,
    lost,
    isLeader: () => leader,
    release: async () => {
      stopped = true;
      leader = false;
      wake?.();
      await client.end().catch(() => undefined);
      resolveLost();
    },
  };
}
