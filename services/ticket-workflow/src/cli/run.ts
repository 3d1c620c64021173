/**
 * Runs one `fairlead tickets` command (distribute, rollback, history) on the same event
 * store and read models as the service. The CLI (cli/) gives the database and the
 * environment; output goes to stdout, one line per project as the run goes.
 */
import { isAbsolute } from 'node:path';
import pg from 'pg';
import { z } from 'zod';
import { createPostgresEventStore } from '@fairlead/event-store';
import { distribute, getDistribution, listDistributions, rollback } from '../application/distribution';
import { startTicketWorkflow } from '../application/start';
import type { CliCommand } from './args';

const absolutePath = z.string().refine((p) => isAbsolute(p) && !p.includes('\0'), 'an absolute path');
const identifier = z.string().regex(/^[a-z_][a-z0-9_]*$/, 'lower-case letters, digits and _');

/** What the tickets commands read from the environment besides the database. */
export const ticketsEnvSchema = z.object({
  TEMPLATES_ROOT: absolutePath.optional().describe('templates the CLI may read, when no --templates-root is given (else the working directory)'),
  PROJECTS_ROOT: absolutePath.optional().describe('projects the CLI may write into, when no --projects-root is given (else the working directory)'),
  EVENT_STORE_SCHEMA: identifier.default('eventstore').describe('schema of the event store'),
  READ_MODEL_SCHEMA: identifier.default('ticket_workflow').describe("schema of ticket-workflow's read models"),
});

export interface RunTicketsOptions {
  /** pg.Pool settings of the ticket service's database (its role; see @fairlead/platform's databaseConnection). */
  connection: pg.ClientConfig;
  /** The user's working directory: the roots' fallback. */
  cwd: string;
  env: Readonly<Record<string, string | undefined>>;
  out?: (line: string) => void;
}

/** Runs the command; resolves with the exit code (1 when a project of a distribution failed). Throws a ZodError for a bad environment. */
export async function runTickets(command: CliCommand, options: RunTicketsOptions): Promise<number> {
  // An empty variable counts as unset (as in a .env line left blank).
  const config = ticketsEnvSchema.parse(Object.fromEntries(Object.entries(options.env).filter(([, v]) => v !== '')));
  const write = options.out ?? ((line: string) => console.log(line));
  const roots = 'roots' in command ? command.roots : {};
  const files = { templatesRoot: roots.templates ?? config.TEMPLATES_ROOT ?? options.cwd, projectsRoot: roots.projects ?? config.PROJECTS_ROOT ?? options.cwd };
  const pool = new pg.Pool({ ...options.connection, max: 4, connectionTimeoutMillis: 10_000 });
  pool.on('error', () => undefined); // an idle client's lost connection: the next query says so
  const store = createPostgresEventStore({ pool, schema: config.EVENT_STORE_SCHEMA });
  try {
    await store.migrate();
    const workflow = await startTicketWorkflow({ store, pool, schema: config.READ_MODEL_SCHEMA, files });
    try {
      const print = command.json ? () => undefined : write;
      switch (command.command) {
        case 'distribute': {
          const report = await distribute(workflow.ctx, command.input, print);
          if (command.json) write(JSON.stringify(report, null, 2));
          else if (report.dryRun) for (const r of report.results.filter((x) => x.content)) write(`\n--- ${r.project}: ${r.file ?? '(ticket only)'}\n${r.content}`);
          return report.summary.failed > 0 ? 1 : 0;
        }
        case 'rollback': {
          const report = await rollback(workflow.ctx, command.distributionId, print);
          if (command.json) write(JSON.stringify(report, null, 2));
          return 0;
        }
        case 'history': {
          const result = command.distributionId ? await getDistribution(workflow.ctx, command.distributionId) : await listDistributions(workflow.ctx, command.filter);
          write(JSON.stringify(result, null, 2));
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
