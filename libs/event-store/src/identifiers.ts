/**
 * SQL identifiers (schema, table, channel names) cannot be bound parameters, so the few
 * that come from configuration are checked against a strict pattern and then quoted.
 */
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** Throws unless `name` is a plain lower-case PostgreSQL identifier. */
export function assertIdentifier(name: string, what: string): string {
  if (!IDENTIFIER.test(name)) {
    throw new TypeError(`${what} must match ${IDENTIFIER.source}, got ${JSON.stringify(name)}`);
  }
  return name;
}

/** A checked identifier, double-quoted for use in SQL text. */
export function quoteIdentifier(name: string, what = 'identifier'): string {
  return `"${assertIdentifier(name, what)}"`;
}
