/**
 * The operator read models, retargeted at another schema: the projections' SQL names
 * schema `operator` explicitly, so a rebuild runs the very same apply code against a
 * client whose statements say `<schema>.` instead. Only the statement text changes; the
 * values stay bound parameters.
 */
import type pg from 'pg';
import type { StoredEvent } from '@fairlead/event-store';
import type { ProjectionDefinition } from '@fairlead/projections';
import { SCHEMA } from '../projections/index';
import { statementName } from '../projections/named-statements';

const LIVE = new RegExp(`\\b${SCHEMA}\\.`, 'g');
const IDENT = /^[a-z_][a-z0-9_]{0,62}$/;

export function assertSchemaName(schema: string): string {
  if (!IDENT.test(schema)) throw new Error(`invalid schema name: ${schema} (lower-case letters, digits and _)`);
  return schema;
}

type QueryArg = string | pg.QueryConfig;

/** A client whose statements' `operator.` names point at `schema`. */
export function retarget<C extends Pick<pg.ClientBase, 'query'>>(client: C, schema: string): C {
  assertSchemaName(schema);
  if (schema === SCHEMA) return client;
  const rewrite = (q: QueryArg): QueryArg => {
    if (typeof q === 'string') return q.replace(LIVE, `${schema}.`);
    const text = q.text.replace(LIVE, `${schema}.`);
    // A named statement of the live text is another statement: it is named after its own text.
    return { ...q, text, ...(q.name !== undefined ? { name: statementName(text) } : {}) };
  };
  return new Proxy(client, {
    get(target, property) {
      if (property === 'query') return (q: QueryArg, ...rest: unknown[]) => (target.query as (...a: unknown[]) => unknown)(rewrite(q), ...rest);
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** Applies a batch of events: the projection's own batched path when it has one, else one by one. */
export type BatchApply = (events: readonly StoredEvent[], client: pg.PoolClient) => Promise<void>;

export interface SchemaProjection {
  definition: ProjectionDefinition;
  setup(client: pg.PoolClient): Promise<void>;
  applyBatch: BatchApply;
  /** Whether the projection reads this event's stream category. */
  wants(event: StoredEvent): boolean;
}

/** A projection definition (its optional applyBatch is the batched path). */
export type WithApplyBatch = ProjectionDefinition;

export function inSchema(definition: WithApplyBatch, schema: string): SchemaProjection {
  const categories = definition.categories ? new Set(definition.categories) : undefined;
  return {
    definition,
    setup: async (client) => void (await definition.setup?.(retarget(client, schema))),
    applyBatch: async (events, client) => {
      const c = retarget(client, schema);
      if (definition.applyBatch) return definition.applyBatch(events, c);
      for (const event of events) await definition.apply(event, c);
    },
    wants: (event) => categories === undefined || categories.has(event.stream.split('-', 1)[0] ?? ''),
  };
}
