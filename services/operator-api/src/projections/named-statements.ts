/**
 * The read models' statements as named (prepared) statements: PostgreSQL parses each
 * once per connection and, after a few runs, reuses one generic plan, instead of parsing
 * and planning every statement of every page again (a third of their server time at one
 * lead per page: bench:operator-projections). Every statement of the read models has a
 * fixed text (values are bound parameters, lists are arrays or JSON), so a connection
 * holds one prepared statement per text; the name is a hash of the text, so two texts
 * never share one (a rebuild's retargeted text gets its own: in-schema.ts).
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { ProjectionDefinition } from '@fairlead/projections';

const names = new Map<string, string>();

/** The prepared statement's name for this text. */
export function statementName(text: string): string {
  let name = names.get(text);
  if (name === undefined) {
    name = `op_${createHash('sha256').update(text).digest('hex').slice(0, 32)}`;
    names.set(text, name);
  }
  return name;
}

/** A client whose `query(text, values)` runs the text as a named statement. */
export function namingStatements<C extends Pick<pg.ClientBase, 'query'>>(client: C): C {
  const query = (q: unknown, values?: unknown, ...rest: unknown[]) =>
    typeof q === 'string' && Array.isArray(values) && rest.length === 0
      ? (client.query as (config: pg.QueryConfig) => unknown)({ name: statementName(q), text: q, values })
      : (client.query as (...a: unknown[]) => unknown)(q, values, ...rest);
  return new Proxy(client, {
    get(target, property) {
      if (property === 'query') return query;
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** The definition with its apply and applyBatch running their statements as named ones. */
export function withNamedStatements(definition: ProjectionDefinition): ProjectionDefinition {
  const { apply, applyBatch } = definition;
  return {
    ...definition,
    apply: (event, client) => apply(event, namingStatements(client)),
    ...(applyBatch ? { applyBatch: (events, client) => applyBatch(events, namingStatements(client)) } : {}),
  };
}
