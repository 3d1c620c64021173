/**
 * `npm run tickets -- <command>`: template distribution from the command line (distribute,
 * rollback, history), on the same event store and read models as the service.
 */
import { readFileSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import pg from 'pg';
import { z } from 'zod';
import { createPostgresEventStore } from '@fairlead/event-store';
import { baseConfigSchema, databaseConnection, env, loadConfig } from '@fairlead/platform';
import { distribute, getDistribution, listDistributions, rollback } from '../application/distribution';
import { startTicketWorkflow } from '../application/start';
import { isTicketWorkflowError } from '../domain/index';
import { parseCommandLine, UsageError, USAGE, type CliCommand } from './args';

const absolutePath = z.string().refine((p) => isAbsolute(p) && !p.includes('\0'), 'an absolute path');
const configSchema = z.object({
  DATABASE_URL: env.postgresUrl(),
  DATABASE_PASSWORD_FILE: baseConfigSchema.shape.DATABASE_PASSWORD_FILE,
  /** Roots when no --templates-root / --projects-root is given; else the working directory. */
  TEMPLATES_ROOT: absolutePath.optional(),
  PROJECTS_ROOT: absolutePath.optional(),
  EVENT_STORE_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]*$/).default('eventstore'),
  READ_MODEL_SCHEMA: z.string().regex(/^[a-z_][a-z0-9_]*$/).default('ticket_workflow'),
});

async function run(command: Exclude<CliCommand, { command: 'help' }>, cwd: string): Promise<number> {
  const config = loadConfig(configSchema);
  const roots = 'roots' in command ? command.roots : {};
  const files = { templatesRoot: roots.templates ?? config.TEMPLATES_ROOT ?? cwd, projectsRoot: roots.projects ?? config.PROJECTS_ROOT ?? cwd };
  const pool = new pg.Pool({ ...databaseConnection(config), max: 4 });
  const store = createPostgresEventStore({ pool, schema: config.EVENT_STORE_SCHEMA });
  try {
    await store.migrate();
    const workflow = await startTicketWorkflow({ store, pool, schema: config.READ_MODEL_SCHEMA, files });
    try {
      const print = command.json ? () => undefined : (line: string) => console.log(line);
      switch (command.command) {
        case 'distribute': {
          const report = await distribute(workflow.ctx, command.input, print);
          if (command.json) console.log(JSON.stringify(report, null, 2));
          else if (report.dryRun) for (const r of report.results.filter((x) => x.content)) console.log(`\n--- ${r.project}: ${r.file ?? '(ticket only)'}\n${r.content}`);
          return report.summary.failed > 0 ? 1 : 0;
        }
        case 'rollback': {
          const report = await rollback(workflow.ctx, command.distributionId, print);
          if (command.json) console.log(JSON.stringify(report, null, 2));
          return 0;
        }
        case 'history': {
          const result = command.distributionId ? await getDistribution(workflow.ctx, command.distributionId) : await listDistributions(workflow.ctx, command.filter);
          console.log(JSON.stringify(result, null, 2));
          return 0;
        }
      }
    } finally {
      await workflow.stop();
    }
  } finally {
    await store.close();
    await pool.end();
  }
}

async function main(): Promise<number> {
  let command: CliCommand;
  // npm runs scripts in the package folder; INIT_CWD is where the user typed the command.
  const cwd = process.env.INIT_CWD ?? process.cwd();
  try {
    command = parseCommandLine(process.argv.slice(2), cwd, (p) => readFileSync(p, 'utf8'));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (command.command === 'help') {
    console.log(USAGE);
    return 0;
  }
  try {
    return await run(command, cwd);
  } catch (error) {
    console.error(isTicketWorkflowError(error) ? `${error.code}: ${error.message}` : error instanceof Error ? error.message : String(error));
    return 1;
  }
}

process.exitCode = await main();
