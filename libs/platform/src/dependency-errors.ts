/**
 * Which errors mean "PostgreSQL cannot be reached right now" rather than "our bug": the
 * server refuses or drops connections, is shutting down or starting, is out of
 * connections, or the database is gone. A request that meets one is answered 503 with
 * Retry-After (the client may try again), not 500. Recognised by the codes the `pg`
 * driver and Node's sockets give, along the error's `cause` chain.
 */

// SQLSTATE: connection exceptions (08…), operator intervention (57P01 admin shutdown,
// 57P02 crash shutdown, 57P03 cannot connect now), too many connections, no such database.
const PG_UNAVAILABLE = /^(08\d{3}|57P0[1-3]|53300|3D000)$/;
const SOCKET_UNAVAILABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
// What node-postgres says (without a code) when a connection dies or cannot be had in time.
const PG_MESSAGES = /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Cannot use a pool after calling end)/;

function isUnavailableOne(error: object): boolean {
  const code = 'code' in error && typeof error.code === 'string' ? error.code : undefined;
  if (code !== undefined && (PG_UNAVAILABLE.test(code) || SOCKET_UNAVAILABLE.has(code))) return true;
  return error instanceof Error && PG_MESSAGES.test(error.message);
}

/** True when the error (or one it wraps) says the database is unreachable. */
export function isDatabaseUnavailable(error: unknown): boolean {
  const seen = new Set<unknown>();
  const queue: unknown[] = [error];
  while (queue.length > 0 && seen.size < 16) {
    const e = queue.shift();
    if (typeof e !== 'object' || e === null || seen.has(e)) continue;
    seen.add(e);
    if (isUnavailableOne(e)) return true;
    if ('cause' in e) queue.push(e.cause);
    if (e instanceof AggregateError) queue.push(...(e.errors as unknown[]));
  }
  return false;
}
