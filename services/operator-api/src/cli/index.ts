/**
 * What the `fairlead` CLI (cli/) runs for the operator read models: replay, verify, audit
 * and the event tail, with their argument rules. Exported as `@fairlead/operator-api/cli`.
 */
export { FairleadArgs, UsageError, type Point } from './fairlead-args';
export { CommandError, REPLAY_TARGETS, runCommand, type CommandContext } from './fairlead-commands';
export { SCHEMA as OPERATOR_SCHEMA } from '../projections/index';
