import type { Logger } from './logger';

/** One step of a graceful shutdown, e.g. `{ name: 'http', run: () => app.close() }`. */
export interface ShutdownStep {
  name: string;
  run(): Promise<unknown> | unknown;
}

export interface ShutdownOptions {
  logger: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** After this long the process exits with code 1 even if steps are still running. */
  timeoutMs?: number;
  signals?: readonly NodeJS.Signals[];
  /** Injected for tests; `process.exit` by default. */
  exit?: (code: number) => void;
  /** Where signals come from; `process` by default. */
  signalSource?: Pick<NodeJS.Process, 'on' | 'off'>;
}

export interface ShutdownHandle {
  /** Runs the steps as if a signal arrived (e.g. after a fatal error); resolves with the exit code. */
  shutdown(reason: string): Promise<number>;
  /** Removes the signal handlers. */
  dispose(): void;
}

/**
 * On SIGTERM or SIGINT runs the steps in order — stop accepting work, drain, close
 * pools — then exits 0, or 1 when a step failed or the whole took longer than
 * `timeoutMs`. A failing step does not stop later ones: pools still get closed.
 * A second signal while shutting down exits at once.
 */
export function onShutdown(steps: readonly ShutdownStep[], options: ShutdownOptions): ShutdownHandle {
  const { logger, timeoutMs = 10_000, signals = ['SIGTERM', 'SIGINT'] } = options;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const source = options.signalSource ?? process;
  let running: Promise<number> | undefined;

  const shutdown = (reason: string): Promise<number> => {
    if (running) return running;
    running = (async () => {
      logger.info({ reason, steps: steps.map((s) => s.name) }, 'shutting down');
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<number>((resolve) => {
        timer = setTimeout(() => {
          logger.error({ timeoutMs }, 'shutdown timed out; exiting anyway');
          resolve(1);
        }, timeoutMs);
        timer.unref?.();
      });
      const ordered = (async () => {
        let code = 0;
        for (const step of steps) {
          try {
            await step.run();
            logger.info({ step: step.name }, 'shutdown step done');
          } catch (error) {
            code = 1;
            logger.error({ step: step.name, err: error }, 'shutdown step failed');
          }
        }
        return code;
      })();
      const code = await Promise.race([ordered, timedOut]);
      clearTimeout(timer);
      exit(code);
      return code;
    })();
    return running;
  };

  const handler = (signal: NodeJS.Signals) => {
    if (running) {
      logger.warn({ signal }, 'second signal during shutdown; exiting now');
      exit(1);
      return;
    }
    void shutdown(signal);
  };
  for (const signal of signals) source.on(signal, handler);
  return {
    shutdown,
    dispose: () => {
      for (const signal of signals) source.off(signal, handler);
    },
  };
}
