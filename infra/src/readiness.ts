/**
 * What `npm start` says while the system comes up and runs: one line when every service
 * answers /readyz with 200, and until then (or when one drops out later) which ones do not
 * and why.
 *
 * While every service is ready it probes every readyIntervalMs (10 s), not every second: each
 * round is a request to every service, a PostgreSQL query and a NATS round trip of each — at
 * one a second, 8 of an idle system's commits a second. probeSoon() (a service exited or
 * reported a problem) probes at once and keeps the quick pace until all are ready again.
 */

export interface ReadinessTarget {
  name: string;
  /** Base URL of the service (`http://127.0.0.1:7101`). */
  url: string;
}

export interface ReadinessWatchOptions {
  log: (line: string) => void;
  /** Between two rounds of probes while a service is not ready (default 1 s). */
  intervalMs?: number;
  /** Between two rounds while every service answered ready (default 10 s). */
  readyIntervalMs?: number;
  /** While waiting, the list of services not ready is repeated this often even when unchanged (default 15 s). */
  repeatMs?: number;
  /** Why a service that does not listen yet is not ready (e.g. its last log line of a problem). */
  hint?: (name: string) => string | undefined;
}

export interface ReadinessWatch {
  /** Resolves the first time every service is ready. */
  readonly allReady: Promise<void>;
  /** Probes now instead of at the end of the wait (something may have changed: a service exited, or logged a problem). */
  probeSoon(): void;
  stop(): void;
}

const NOT_LISTENING = 'not listening yet';

/** Why one service is not ready, or undefined when it is. */
export async function probeReadiness(url: string, timeoutMs = 3_000): Promise<string | undefined> {
  try {
    const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(timeoutMs) });
    if (res.status === 200) return undefined;
    const body = (await res.json().catch(() => ({}))) as { detail?: unknown; checks?: Record<string, { status?: string; error?: string }> };
    const down = Object.entries(body.checks ?? {})
      .filter(([, c]) => c.status === 'down')
      .map(([name, c]) => `${name}: ${c.error ?? 'down'}`);
    return down.length > 0 ? down.join('; ') : `/readyz answered ${res.status}`;
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code;
    return cause === 'ECONNREFUSED' ? NOT_LISTENING : `no answer (${(error as Error).message})`;
  }
}

export function watchReadiness(targets: readonly ReadinessTarget[], options: ReadinessWatchOptions): ReadinessWatch {
  const started = Date.now();
  let stopped = false;
  let everReady = false;
  let lastLine = '';
  let lastLineAt = 0;
  let resolveReady!: () => void;
  const allReady = new Promise<void>((r) => (resolveReady = r));
  /** Asked to probe soon: the next round comes at the quick pace, whatever the last one found. */
  let soon = false;
  /** Sets the end of the current wait again (after probeSoon()). */
  let rearm: (() => void) | undefined;

  /** One round of probes; true when every service answered ready. */
  const round = async (): Promise<boolean> => {
    const results = await Promise.all(targets.map(async (t) => [t.name, await probeReadiness(t.url)] as const));
    if (stopped) return false;
    const notReady = results.filter(([, why]) => why !== undefined);
    if (notReady.length === 0) {
      if (!everReady) {
        everReady = true;
        options.log(`ready: all ${targets.length} services answer /readyz (${((Date.now() - started) / 1_000).toFixed(0)} s after start)`);
        resolveReady();
      } else if (lastLine !== '') {
        options.log(`ready again: all ${targets.length} services answer /readyz`);
      }
      lastLine = '';
      return true;
    }
    const describe = ([name, why]: readonly [string, string | undefined]) => {
      const hint = why === NOT_LISTENING ? options.hint?.(name) : undefined;
      return `${name} (${why}${hint ? `; last said: ${hint}` : ''})`;
    };
    const line = `${everReady ? 'not ready' : 'waiting for'}: ${notReady.map(describe).join(', ')}`;
    const names = notReady.map(([n]) => n).join(',');
    // Said again when the set changes, or now and then while it does not.
    if (names !== lastLine || Date.now() - lastLineAt >= (options.repeatMs ?? 15_000)) {
      options.log(line);
      lastLine = names;
      lastLineAt = Date.now();
    }
    return false;
  };

  void (async () => {
    while (!stopped) {
      soon = false;
      const ready = await round().catch((error: unknown) => {
        options.log(`readiness probe failed: ${(error as Error).message}`);
        return false;
      });
      const endedAt = Date.now();
      await new Promise<void>((resolve) => {
        let timer: NodeJS.Timeout | undefined;
        // Never quicker than intervalMs after the last round, however often probeSoon() is called.
        const arm = () => {
          clearTimeout(timer);
          const pause = ready && !soon ? (options.readyIntervalMs ?? 10_000) : (options.intervalMs ?? 1_000);
          timer = setTimeout(done, Math.max(0, endedAt + pause - Date.now()));
          timer.unref();
        };
        function done() {
          rearm = undefined;
          resolve();
        }
        rearm = arm;
        arm();
      });
    }
  })();
  return {
    allReady,
    probeSoon: () => {
      soon = true;
      rearm?.();
    },
    stop: () => {
      stopped = true;
    },
  };
}
