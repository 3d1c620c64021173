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
  'headers["x-api-key"]',
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
// Credentials a client put into a query string (`?access_token=…`), wherever a URL is logged.
const QUERY_CREDENTIAL = /([?&](?:access_token|id_token|refresh_token|token|api_key|apikey|x-api-key|key|password|secret|client_secret|jwt|auth)=)[^&#\s"'\\]*/gi;
// `Bearer <credential>` in any text (an error message quoting a header, say).
const BEARER = /(\bBearer\s+)[A-Za-z0-9._~+/=-]+/g;

/**
 * Masks credentials anywhere in a text: passwords embedded in URLs (connection strings),
 * credentials in query strings, and bearer tokens.
 */
export function redactSecrets(text: string): string {
  return text.replace(URL_PASSWORD, '$1***@').replace(QUERY_CREDENTIAL, '$1[redacted]').replace(BEARER, '$1[redacted]');
}

/** What fastify logs of a request (its own serializer's fields), the URL's credentials masked. */
function requestSerializer(req: { method?: string; url?: string; host?: string; ip?: string; socket?: { remotePort?: number } }): Record<string, unknown> {
  return { method: req.method, url: req.url === undefined ? undefined : redactSecrets(req.url), host: req.host, remoteAddress: req.ip, remotePort: req.socket?.remotePort };
}

/**
 * A JSON logger (pino). Credentials in known fields are replaced by `[redacted]`, and
 * passwords inside URLs, credentials in query strings and bearer tokens are masked in
 * every line, messages and error stacks included, since connection strings end up in
 * error messages of drivers and request URLs in request logs.
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
      // fastify uses the logger's `req` serializer in place of its own (which logs the URL as sent).
      serializers: { err: pino.stdSerializers.errWithCause, req: requestSerializer },
    },
    scrubbing,
  );
}
