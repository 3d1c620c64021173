/**
 * Which failures of a projection's transaction are the database's (gone, restarting,
 * overloaded, a deadlock) rather than the event's: those are retried; anything else marks
 * the event as one the projection cannot apply.
 */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT']);

export function isTransientDbError(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code !== 'string') {
    return error instanceof Error && /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(error.message);
  }
  // 08: connection exception; 57P0x: shutting down / starting; 53: out of resources; 40001/40P01: serialization, deadlock.
  return code.startsWith('08') || code.startsWith('53') || ['57P01', '57P02', '57P03', '40001', '40P01'].includes(code) || SOCKET_CODES.has(code);
}
