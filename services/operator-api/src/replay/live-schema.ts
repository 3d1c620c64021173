/**
 * Whether the live read models exist, set up by the operator API itself. A switch-over
 * (replay) and verify work on the API's tables; they must never create them: the operator
 * CLI logs in as a role of its own (docs/security.md#database), and a table it made — the
 * checkpoint table above all — would be the CLI's, which the API may then neither write nor
 * migrate (it would fail to start with "permission denied for table projection_checkpoints").
 * The API sets its schema up at start, as the schema's owner, in one transaction with
 * every read model's tables (libs/projections: startProjectorGroup), so the checkpoint
 * table's presence says it has done so.
 */
import type pg from 'pg';
import { CheckpointTable } from '@fairlead/projections';

/** What is missing (or not the API's), as a sentence that says what to do; undefined when the API has set the schema up. */
export async function liveSchemaProblem(db: Pick<pg.ClientBase, 'query'>, schema: string): Promise<string | undefined> {
  const table = new CheckpointTable(schema).table;
  const { rows } = await db.query<{ schema_owner: string | null; checkpoints_owner: string | null }>(
    `select (select pg_get_userbyid(nspowner) from pg_namespace where nspname = $1) as schema_owner,
            (select pg_get_userbyid(relowner) from pg_class where oid = to_regclass($2)) as checkpoints_owner`,
    [schema, table],
  );
  const found = rows[0];
  if (!found?.schema_owner) {
    return `schema ${schema} does not exist in this database: run the database bootstrap (npm run db:bootstrap; npm start and docker compose run it themselves), start the operator API once so it sets up its read models, then run this again`;
  }
  if (!found.checkpoints_owner) {
    return `the operator API has not set up its read models in schema ${schema} yet (no ${table}): start the operator API once (it creates them as their owner), then run this again`;
  }
  if (found.checkpoints_owner !== found.schema_owner) {
    // Left by an older replay that made it as the CLI's role: the API cannot write it.
    return `${table} belongs to ${found.checkpoints_owner}, not to the schema's owner ${found.schema_owner}: run the database bootstrap (npm run db:bootstrap), which hands it back, then run this again`;
  }
  return undefined;
}
