/**
 * Upgrades of read-model tables made before a change of their shape. A projection's setup
 * creates the newest shape (`create table if not exists`) and then runs these, which do
 * nothing on a table already in that shape — so a live schema, a fresh one and a rebuild
 * schema (retargeted `operator.` names, replay/in-schema.ts) all end up alike.
 */

/**
 * Moves `integer` columns that hold money to `bigint` (docs/limits.md): one guarded block
 * per column, so the table is rewritten once, on the first start after the upgrade.
 * Table and column names are fixed strings of this code, never data.
 */
export function moneyToBigint(table: string, columns: readonly string[]): string {
  return columns
    .map(
      (column) => `
  do $$ begin
    if (select atttypid from pg_attribute where attrelid = 'operator.${table}'::regclass and attname = '${column}') = 'integer'::regtype then
      alter table operator.${table} alter column ${column} type bigint;
    end if;
  end $$;`,
    )
    .join('\n');
}

/**
 * Drops columns a read model no longer keeps: one guarded block per column, so a table
 * already without it is not touched (no lock taken) at each start. Dropping is a change
 * of the catalogue only (no rewrite); the rows' old values go as rows are rewritten.
 * Table and column names are fixed strings of this code, never data.
 */
export function dropColumns(table: string, columns: readonly string[]): string {
  return columns
    .map(
      (column) => `
  do $$ begin
    if exists (select 1 from pg_attribute where attrelid = 'operator.${table}'::regclass and attname = '${column}' and not attisdropped) then
      alter table operator.${table} drop column ${column};
    end if;
  end $$;`,
    )
    .join('\n');
}

/** A bigint column's value as pg hands it over (a decimal string) as a number; money stays far below 2^53. */
export const centsOf = (value: string | number): number => Number(value);
