/** The `fairlead` read-model commands, given a pool and a store (the `fairlead` CLI in cli/ wires the process). */
import type pg from 'pg';
import type { PostgresEventStore } from '@fairlead/event-store';
import { PROJECTIONS, SCHEMA } from '../projections/index';
import { leadStory } from '../replay/audit-lead';
import { carryOver } from '../replay/carry-over';
import { liveSchemaProblem } from '../replay/live-schema';
import { eventLine, eventsBetween } from '../replay/log-range';
import { rebuild } from '../replay/rebuild';
import { switchOver } from '../replay/switch-over';
import { tablesByProjection } from '../replay/tables';
import { verify } from '../replay/verify';
import type { FairleadArgs } from './fairlead-args';
import { UsageError } from './fairlead-args';
import { formatStory } from './format-story';
import { progressReporter } from './progress';

export interface CommandContext {
  pool: pg.Pool;
  store: PostgresEventStore;
  storeSchema: string;
  out: NodeJS.WriteStream;
  err: NodeJS.WriteStream;
}

export class CommandError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** What `replay` takes: `all` or one read model by its short name (`wallets` for operator.wallets). */
export const REPLAY_TARGETS: readonly string[] = ['all', ...PROJECTIONS.map((p) => p.name.replace(`${SCHEMA}.`, ''))];

function selectProjections(name: string) {
  if (name === 'all') return PROJECTIONS;
  const found = PROJECTIONS.find((p) => p.name === name || p.name === `${SCHEMA}.${name}`);
  if (!found) throw new UsageError(`unknown projection ${name}; one of: ${REPLAY_TARGETS.join(', ')}`);
  return [found];
}

const stamp = () => new Date().toISOString().replace(/\D/g, '').slice(0, 14);

/**
 * Before a command that works on the live read models (replay's switch-over, verify): they
 * must exist, made by the operator API. Checked before the rebuild, so a long replay does
 * not run only to be refused at the end; nothing has been created when it is refused.
 */
async function requireLiveReadModels(pool: pg.Pool): Promise<void> {
  const problem = await liveSchemaProblem(pool, SCHEMA);
  if (problem) throw new CommandError('read_models_not_set_up', problem);
}

/** Runs one command; resolves with the exit code. */
export async function runCommand(args: FairleadArgs, ctx: CommandContext): Promise<number> {
  const { pool, store, out, err } = ctx;
  switch (args.command) {
    case 'replay': {
      const projections = selectProjections(args.projection);
      // A past state goes to a schema of its own and only reads the live one (when there is one).
      if (!args.into) await requireLiveReadModels(pool);
      const target = args.into ?? `${SCHEMA}_shadow_${stamp()}`;
      const { rows } = await pool.query<{ ok: boolean }>(`select exists (select 1 from pg_namespace where nspname = $1) as ok`, [target]);
      if (rows[0]?.ok) throw new CommandError('schema_exists', `schema ${target} exists already; drop it or choose another --into`);
      const progress = progressReporter(err, `replay ${args.projection} → ${target}`);
      const until = args.until ?? { kind: 'head' as const };
      const result = await rebuild({ store, pool, schema: target, projections, until, batchSize: args.batchSize, onProgress: progress.update });
      progress.done();
      if (args.into) {
        await carryOver(pool, SCHEMA, target, projections.map((p) => p.name), args.until?.kind === 'time' ? args.until.time : undefined);
        out.write(`${target}: ${projections.length} read models as of global position ${result.checkpoint.globalPosition} (${result.events} events); the live ones were not touched\n`);
        return 0;
      }
      const tables = await tablesByProjection(pool, projections);
      const switched = await switchOver({ store, pool, live: SCHEMA, shadow: target, projections, tables });
      out.write(
        `switched ${switched.tables.length} tables (${switched.tables.join(', ')}) to the rebuilt read models: ${result.events + switched.caughtUp} events, position ${switched.checkpoint.globalPosition}\n`,
      );
      return 0;
    }
    case 'verify': {
      await requireLiveReadModels(pool);
      const progress = progressReporter(err, 'verify');
      const result = await verify({ store, pool, live: SCHEMA, scratch: `${SCHEMA}_verify_${stamp()}`, projections: PROJECTIONS, onProgress: progress.update });
      progress.done();
      for (const name of result.behind) out.write(`behind: live projection ${name} has not applied everything in the store\n`);
      for (const d of result.differences) {
        if (d.onlyLiveCount < 0) {
          out.write(`${d.table}: missing from the live schema\n`);
          continue;
        }
        out.write(`${d.table}: ${d.onlyLiveCount} rows only in the live read model, ${d.onlyRebuiltCount} only in the rebuilt one\n`);
        for (const row of d.onlyLive) out.write(`  - live:    ${JSON.stringify(row)}\n`);
        for (const row of d.onlyRebuilt) out.write(`  + rebuilt: ${JSON.stringify(row)}\n`);
      }
      const clean = result.differences.length === 0 && result.behind.length === 0;
      out.write(clean ? `verify: ${result.tables.length} tables identical\n` : `verify: ${result.differences.length} tables differ\n`);
      return clean ? 0 : 1;
    }
    case 'audit-lead': {
      const story = await leadStory(store, pool, args.leadId, ctx.storeSchema);
      if (!story.found) throw new CommandError('lead_not_found', `no events for lead ${args.leadId}`);
      out.write(args.json ? `${JSON.stringify(story, null, 2)}\n` : formatStory(story));
      return story.lru_check === 'violated' ? 1 : 0;
    }
    case 'audit-export': {
      let n = 0;
      for await (const event of eventsBetween(store, pool, ctx.storeSchema, args.from, args.to)) {
        n++;
        // Respect back-pressure: archiving a large range must not buffer it all.
        if (!out.write(`${eventLine(event)}\n`)) await new Promise((r) => out.once('drain', r));
      }
      err.write(`exported ${n} events\n`);
      return 0;
    }
    case 'events-tail': {
      const category = args.category ?? (args.stream ? args.stream.split('-', 1)[0] : undefined);
      const head = await store.headCheckpoint();
      err.write(`following ${args.stream ?? args.category ?? 'all events'} after global position ${head?.globalPosition ?? 0n}\n`);
      const subscription = store.subscribe({
        from: head ?? { transactionId: 0n, globalPosition: 0n },
        ...(category ? { categories: [category] } : {}),
        handler: (event) => {
          if (args.stream && event.stream !== args.stream) return;
          out.write(`${eventLine(event)}\n`);
        },
      });
      const stop = () => void subscription.stop();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      await subscription.done;
      return 0;
    }
  }
}
