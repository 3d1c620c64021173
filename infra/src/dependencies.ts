/**
 * Before `npm start` starts the services it waits for the servers they need, saying which
 * one it waits for and why, for as long as it takes: services started against a server
 * that is down would only crash and restart.
 */
import { connect as tcpConnect } from 'node:net';
import pg from 'pg';

export interface Dependency {
  /** What the user reads: `PostgreSQL at 127.0.0.1:5432`. */
  label: string;
  /** Resolves when the server answers; rejects with why it does not. */
  probe(): Promise<void>;
}

/** PostgreSQL answers `select 1` at this URL. */
export function postgresDependency(url: string): Dependency {
  const u = new URL(url);
  return {
    label: `PostgreSQL at ${u.hostname}:${u.port || 5432}`,
    probe: async () => {
      const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3_000 });
      client.on('error', () => undefined);
      try {
        await client.connect();
        await client.query('select 1');
      } finally {
        await client.end().catch(() => undefined);
      }
    },
  };
}

/**
 * One of these NATS servers greets a client (its INFO line). A protocol-level check
 * only: it needs no credentials, the services bring their own.
 */
export function natsDependency(servers: readonly string[]): Dependency {
  const addresses = servers.map((s) => new URL(s.includes('://') ? s : `nats://${s}`)).map((u) => ({ host: u.hostname, port: Number(u.port || 4222) }));
  return {
    label: `NATS at ${addresses.map((a) => `${a.host}:${a.port}`).join(', ')}`,
    probe: async () => {
      const failures: string[] = [];
      for (const address of addresses) {
        try {
          await greets(address.host, address.port);
          return;
        } catch (error) {
          failures.push((error as Error).message);
        }
      }
      throw new Error([...new Set(failures)].join('; '));
    },
  };
}

function greets(host: string, port: number, timeoutMs = 3_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = tcpConnect({ host, port });
    const done = (error?: Error) => {
      socket.destroy();
      if (error) reject(error);
      else resolve();
    };
    socket.setTimeout(timeoutMs, () => done(new Error(`no answer within ${timeoutMs} ms`)));
    socket.once('error', (error) => done(error));
    socket.once('data', (chunk) => (chunk.toString().startsWith('INFO') ? done() : done(new Error('not a NATS server'))));
  });
}

export interface WaitOptions {
  log: (line: string) => void;
  /** Resolves early (false) when aborted, e.g. by Ctrl-C. */
  signal?: AbortSignal;
  /** Longest wait between probes (default 5 s); the first waits are shorter. */
  maxDelayMs?: number;
  /** An unchanged reason is repeated this often (default 30 s). */
  repeatMs?: number;
}

/** Waits until every dependency answers; true when they all do, false when aborted. */
export async function waitForDependencies(dependencies: readonly Dependency[], options: WaitOptions): Promise<boolean> {
  for (const dependency of dependencies) {
    let delay = 250;
    let said = '';
    let saidAt = 0;
    for (;;) {
      if (options.signal?.aborted) return false;
      try {
        await dependency.probe();
        if (said) options.log(`${dependency.label} answers`);
        break;
      } catch (error) {
        const reason = describe(error);
        if (reason !== said || Date.now() - saidAt >= (options.repeatMs ?? 30_000)) {
          options.log(`waiting for ${dependency.label} (${reason}); services start when it answers`);
          said = reason;
          saidAt = Date.now();
        }
      }
      await sleep(delay, options.signal);
      delay = Math.min(options.maxDelayMs ?? 5_000, delay * 2);
    }
  }
  return !options.signal?.aborted;
}

function describe(error: unknown): string {
  const e = error as { code?: string; message?: string; errors?: { message?: string }[] };
  // An AggregateError (IPv4 and IPv6 both refused) has an empty message.
  const message = e.message || e.errors?.map((x) => x.message).join('; ') || e.code || String(error);
  return message.replace(/:\/\/([^:@/]+):[^@/]+@/g, '://$1:***@');
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
