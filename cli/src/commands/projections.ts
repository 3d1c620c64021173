/**
 * projections: the readers of the event log (every service's projections and the relay)
 * as the operator API reports them, and what an operator does about one stalled on an
 * event it cannot handle: retry it (after a fix) or park the event for good.
 */
import { Option, type Command } from 'commander';
import { examples, type CliIo } from '../command-kit';
import { READER_STATES as STATES } from '../valid-values';
import type { ApiOptions } from '../operator-api';

/** Loaded when a command runs, so that `--help` stays quick. */
const load = () => import('./projections.run');

const apiOptions = (cmd: Command) =>
  cmd
    .option('--api <url>', 'the operator API (default: FAIRLEAD_API_URL, else the one npm start runs)')
    .option('--token <jwt>', 'bearer token (default: FAIRLEAD_TOKEN, else one minted from JWT_SECRET or the local development secret)');

export function registerProjectionsCommands(program: Command, io: CliIo): void {
  const projections = program
    .command('projections')
    .summary('list the readers of the event log; retry or park a stalled one')
    .description(
      `The readers of the event log (every service's projections and the relay), as the processes report them
through the operator API: their position, and the event a stalled one is stopped at. A stalled reader
waits for an operator: retry it after fixing the cause, or park the event (skip it for good). Both are
recorded on the projection's stream and in the audit log.
Names: as \`fairlead projections list\` shows them (e.g. operator.wallets, relay).`,
    );

  const list = apiOptions(
    projections
      .command('list')
      .summary('every reader: position, state, the event a stalled one is stopped at')
      .addOption(new Option('--state <state>', 'only readers in this state').choices(STATES))
      .option('--json', 'the API answer as JSON'),
  ).action(async (o: ApiOptions & { state?: (typeof STATES)[number]; json?: boolean }) => {
    await (await load()).listReaders(io, o);
  });
  examples(list, ['fairlead projections list', 'fairlead projections list --state stalled', 'fairlead projections list --json | jq \'.items[] | select(.stalled)\'']);

  const retry = apiOptions(
    projections
      .command('retry')
      .summary('try the event a stalled projection is stopped at again (after a fix)')
      .description('Ask a stalled projection (or the relay) to try the event it is stopped at again — after fixing what made it fail. Needs the operator role with MFA.')
      .argument('<name>', 'the projection, as `projections list` shows it'),
  ).action(async (name: string, o: ApiOptions, cmd: Command) => {
    await (await load()).retryReader(cmd, io, name, o);
  });
  examples(retry, ['fairlead projections retry operator.wallets']);

  const park = apiOptions(
    projections
      .command('park')
      .summary('skip, for good, the event a stalled projection is stopped at')
      .description(
        `Park the event a stalled projection (or the relay) is stopped at: it records the event as skipped and goes on
after it. The event is named (--event), so a park never lands on another event than the one you looked at.
Recorded in the audit log with the reason. Needs the admin role with MFA.`,
      )
      .argument('<name>', 'the projection, as `projections list` shows it')
      .requiredOption('--event <event-id>', 'the event it is stalled on (`projections list` shows it)')
      .requiredOption('--reason <text>', 'why the event may be skipped (goes to the audit log)'),
  ).action(async (name: string, o: ApiOptions & { event: string; reason: string }, cmd: Command) => {
    await (await load()).parkEvent(cmd, io, name, o);
  });
  examples(park, ['fairlead projections park operator.wallets --event 0193a8f2-… --reason "test event from the load test, never valid"']);
}
