/**
 * `synchronous_commit` for the distribution benchmark. `npm start` runs PostgreSQL with
 * `on` (a commit returns once it is on disk); `off` is measured beside it to show what
 * durability costs. Both in one run: the setting is changed on the running server
 * (ALTER SYSTEM + pg_reload_conf), which every session picks up at its next statement, so
 * the services keep running between the two measurements.
 */
import pg from 'pg';

export type CommitSetting = 'on' | 'off';

/**
 * BENCH_COMMIT: `both` (default: `on`, the headline, then `off`), `on` or `off`. On a
 * server we did not start (DATABASE_URL) only its own setting is measured: changing a
 * shared server's configuration is not a benchmark's business.
 */
export function commitSettingsToMeasure(value: string | undefined, ownServer: boolean): CommitSetting[] | 'server' {
  if (!ownServer) return 'server';
  const choice = (value ?? 'both').trim();
  if (choice === 'both') return ['on', 'off'];
  if (choice === 'on' || choice === 'off') return [choice];
  throw new Error(`BENCH_COMMIT: expected both, on or off, got ${choice}`);
}

/** Sets the server-wide default and waits until a new session sees it. */
export async function setSynchronousCommit(serverUrl: string, setting: CommitSetting): Promise<void> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    // A fixed literal per branch: ALTER SYSTEM takes no bound parameters.
    await client.query(setting === 'on' ? 'alter system set synchronous_commit = on' : 'alter system set synchronous_commit = off');
    await client.query('select pg_reload_conf()');
  } finally {
    await client.end();
  }
  for (let i = 0; i < 50; i++) {
    if ((await currentSynchronousCommit(serverUrl)) === setting) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`synchronous_commit did not become ${setting} after pg_reload_conf()`);
}

export async function currentSynchronousCommit(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<{ v: string }>('select current_setting($1) as v', ['synchronous_commit'])).rows[0]!.v;
  } finally {
    await client.end();
  }
}
