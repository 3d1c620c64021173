/** tickets: template distribution to projects (distribute, rollback, history), on the service's event store and read models. */
import type { Command } from 'commander';
import { examples, repeatable, type CliIo } from '../command-kit';
import type { DistributeOptions } from './tickets.run';

const ROOTS_HELP = `Files are read only inside the templates root and written only inside the projects root:
--templates-root / --projects-root, else TEMPLATES_ROOT / PROJECTS_ROOT, else the current directory.
'..' in a path is refused; so is a path or symlink leading outside its root.`;

/** Loaded when a command runs, so that `--help` stays quick. */
const load = () => import('./tickets.run');

export function registerTicketsCommands(program: Command, io: CliIo): void {
  const tickets = program
    .command('tickets')
    .summary('distribute ticket templates to projects, roll a distribution back, read the history')
    .description(`Ticket template distribution: write a template into many projects' issues/ folders and open a
ticket for each, roll a distribution back, and read past distributions.`);
  tickets.addHelpText('after', `\n${ROOTS_HELP}`);

  const distribute = tickets
    .command('distribute')
    .summary('write a template into projects and open a ticket in each')
    .description(
      `Render a template (its {{keywords}} filled in) into each target project's issues/ folder and open a ticket
for it. Targets: registered projects (--project), directories (--dir), or every project folder under
--discover. --dry-run shows what would be written. The log .ticket_distribution_log goes to --base-dir
(default: the --discover directory, else the projects root). Exit code 1 when a project failed.`,
    )
    .option('--template <file>', 'the template file (markdown)')
    .option('--name <name>', 'the template name in the history and file names (default: from the file name)')
    .option('--project <id>', 'a registered project (repeatable)', repeatable)
    .option('--dir <path>', 'a project directory (repeatable)', repeatable)
    .option('--discover <base-dir>', 'every project folder under this directory')
    .option('--base-dir <dir>', 'where .ticket_distribution_log goes')
    .option('--keyword <name=value>', 'a keyword for the template (repeatable)', repeatable)
    .option('--keywords-file <file>', 'keywords, one "name = value" a line (# comments)')
    .option('--plan <stages>', 'the execution plan of the tickets, comma separated, e.g. architect,developer')
    .option('--force', 'send again to projects that already received this template (else skipped)')
    .option('--dry-run', 'show what would be written; change nothing')
    .option('--json', 'the report as JSON')
    .option('--templates-root <dir>', 'the directory templates may be read from')
    .option('--projects-root <dir>', 'the directory projects may be written in')
    .action(async (o: DistributeOptions, cmd: Command) => {
      await (await load()).runTicketsCommand(cmd, io, { command: 'distribute', options: o });
    });
  distribute.addHelpText('after', `\n${ROOTS_HELP}`);
  examples(distribute, [
    'fairlead tickets distribute --template audit.md --discover projects --keyword owner=ops --dry-run',
    'fairlead tickets distribute --template audit.md --discover projects --keyword owner=ops',
    'fairlead tickets distribute --template audit.md --project acme/web --project acme/api --plan architect,developer',
  ]);

  const rollback = tickets
    .command('rollback')
    .summary('remove the files of a distribution and withdraw its tickets')
    .description('Undo a distribution: remove the files it wrote (unless they were changed since) and withdraw its tickets.')
    .argument('<distribution-id>', 'the distribution, as `distribute` and `history` print it (dist_…)')
    .option('--projects-root <dir>', 'the directory projects may be written in')
    .option('--json', 'the report as JSON')
    .action(async (id: string, o: { projectsRoot?: string; json?: boolean }, cmd: Command) => {
      await (await load()).runTicketsCommand(cmd, io, { command: 'rollback', id, options: o });
    });
  examples(rollback, ['fairlead tickets rollback dist_20250101_120000_ab12cd']);

  const history = tickets
    .command('history')
    .summary('past distributions, or one in detail (JSON)')
    .description('List past distributions (newest first), or show one with its per-project results, as JSON.')
    .argument('[distribution-id]', 'one distribution (dist_…)')
    .option('--template <name>', 'only distributions of this template')
    .option('--json', 'JSON (the default; kept for symmetry with the other commands)')
    .action(async (id: string | undefined, o: { template?: string; json?: boolean }, cmd: Command) => {
      await (await load()).runTicketsCommand(cmd, io, { command: 'history', id, options: o });
    });
  examples(history, ['fairlead tickets history', 'fairlead tickets history --template audit', 'fairlead tickets history dist_20250101_120000_ab12cd']);
}
