import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';
import type { LogLevel } from './config';

export type Logger = PinoLogger;

export interface LoggerOptions {
  /** Service name, bound to every line as `service`. */
  service: string;
  level?: LogLevel;
  /** Where JSON lines go; stdout by default. Tests pass an in-memory stream. */
  destination?: DestinationStream;
}

// Structured fields that hold credentials, at the top level and one level down
// (pino's redaction works on known paths, so the common shapes are listed).
const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'authorization',
  'password',
  'secret',
  'token',
  '*.password',
  '*.secret',
  '*.token',
  '*.authorization',
];

// `scheme://user:password@host` → `scheme://user:***@host`, wherever it appears.
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s:@/"']*:)[^\s@/"']+@/gi;

/** Masks passwords embedded in URLs (connection strings) anywhere in a text. */
export function redactSecrets(text: string): string {
  return text.replace(URL_PASSWORD, '$1***@');
}

/**
 * A JSON logger (pino). Credentials in known fields are replaced by `[redacted]`, and
 * passwords inside URLs are masked in every line, messages and error stacks included,
 * since connection strings end up in error messages of drivers.
 */
export function createLogger(options: LoggerOptions): Logger {
  // Synchronous writes: lines logged right before process.exit are not lost.
  const target = options.destination ?? pino.destination({ dest: 1, sync: true });
  const scrubbing: DestinationStream = { write: (line: string) => target.write(redactSecrets(line)) };
  return pino(
    {
      level: options.level ?? 'info',
      base: { service: options.service, pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      serializers: { err: pino.stdSerializers.errWithCause },
    },
    scrubbing,
  );
}
