import { pino, type Logger } from 'pino';

/** The logger of a component: the caller's, or a silent one so libraries never print on their own. */
export function componentLogger(logger: Logger | undefined, bindings: Record<string, unknown>): Logger {
  return (logger ?? pino({ level: 'silent' })).child(bindings);
}
