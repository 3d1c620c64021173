/**
 * replay, verify, audit and events: the operator read models rebuilt, compared and audited
 * from the event store (the work itself is operator-api's, `@fairlead/operator-api/cli`).
 */
import { Argument, Option, type Command } from 'commander';
import { examples, type CliIo } from '../command-kit';
import { REPLAY_TARGETS } from '../valid-values';

const POINT = '<position|time>';

/** Loaded when a command runs, so that `--help` stays quick. */
const run = async (cmd: Command, io: CliIo, raw: Record<string, unknown>) => (await import('./read-models.run')).runReadModelCommand(cmd, io, raw);

const batchSize = () => new Option('--batch-size <n>', 'events read per batch (1–50000)').default('5000');

export function registerReadModelCommands(program: Command, io: CliIo): void {
  const replay = program
    .command('replay')
    .summary('rebuild read models from the event store')
    .description(
      `Rebuild operator read models from the event store into a shadow schema and switch them over atomically
(readers keep answering throughout); the live read models must exist (the operator API sets them up at
its first start). With --until and --into, rebuild the state as it stood at a point of the log into a
schema of its own and leave the live read models alone.`,
    )
    .addArgument(new Argument('<projection>', 'the read model to rebuild, or all').choices(REPLAY_TARGETS))
    .option('--until <point>', `rebuild up to this point of the log: a global position or an ISO time (${POINT}); needs --into`)
    .option('--into <schema>', 'schema for the past state (lower-case letters, digits, _); not the live schema')
    .addOption(batchSize())
    .action(async (projection: string, o: { until?: string; into?: string; batchSize?: string }, cmd: Command) => {
      await run(cmd, io, { command: 'replay', projection, until: o.until, into: o.into, batchSize: o.batchSize });
    });
  examples(replay, [
    'fairlead replay all',
    'fairlead replay wallets',
    'fairlead replay all --until 2026-11-20T00:00:00Z --into operator_asof',
    'fairlead replay all --until 48213 --into audit_before_refund',
  ]);

  const verify = program
    .command('verify')
    .summary('rebuild every read model aside and compare it with the live one')
    .description(
      `Rebuild every operator read model into a scratch schema and compare it row by row with the live one
(schema operator). Prints the rows that differ; exit code 1 when anything differs or a live
projection is behind.`,
    )
    .addOption(batchSize())
    .action(async (o: { batchSize?: string }, cmd: Command) => {
      await run(cmd, io, { command: 'verify', batchSize: o.batchSize });
    });
  examples(verify, ['fairlead verify', 'DATABASE_URL=postgres://user:pass@db:5432/fairlead fairlead verify']);

  const audit = program.command('audit').summary("a lead's story, or a range of the log for an archive").description("Audit a lead's distribution, or export a range of the event log.");
  const lead = audit
    .command('lead')
    .summary("a lead's story: every round's candidates in least-recently-served order, picks, charges, emails")
    .description(
      `Tell a lead's story from the log: its timeline, every level round with the candidates in
least-recently-served order (re-derived from the log), the picks, charges and emails.
Exit code 1 when a pick was not the least recently served eligible candidate.`,
    )
    .argument('<lead-id>', 'the lead')
    .option('--json', 'the story as JSON (the same facts)')
    .action(async (leadId: string, o: { json?: boolean }, cmd: Command) => {
      await run(cmd, io, { command: 'audit-lead', leadId, json: o.json });
    });
  examples(lead, ['fairlead audit lead 5f0c2a7e-…', 'fairlead audit lead 5f0c2a7e-… --json | jq .lru_check']);
  const exportRange = audit
    .command('export')
    .summary('a range of the log as JSON lines')
    .description('Write the events between two points of the log (inclusive) to stdout, one JSON object per line.')
    .requiredOption('--from <point>', `first point: a global position or an ISO time (${POINT})`)
    .requiredOption('--to <point>', `last point: a global position or an ISO time (${POINT})`)
    .action(async (o: { from: string; to: string }, cmd: Command) => {
      await run(cmd, io, { command: 'audit-export', from: o.from, to: o.to });
    });
  examples(exportRange, ['fairlead audit export --from 1 --to 50000 > log-1-50000.jsonl', 'fairlead audit export --from 2026-11-01 --to 2026-12-01T00:00:00Z | gzip > november.jsonl.gz']);

  const events = program.command('events').summary('follow the event log').description('Read the event log as it grows.');
  const tail = events
    .command('tail')
    .summary('print new events as they are stored (Ctrl-C stops)')
    .description('Print every event stored from now on, one JSON object per line, until Ctrl-C; optionally of one stream or one category.')
    .option('--stream <name>', 'only this stream, e.g. lead-5f0c2a7e-…')
    .option('--category <category>', 'only streams of this category (the part before the first dash), e.g. lead, wallet')
    .action(async (o: { stream?: string; category?: string }, cmd: Command) => {
      await run(cmd, io, { command: 'events-tail', stream: o.stream, category: o.category });
    });
  examples(tail, ['fairlead events tail', 'fairlead events tail --category wallet', 'fairlead events tail --stream lead-5f0c2a7e-…']);
}
