/**
 * The values the help and the errors list (commander's `choices`), kept here as plain
 * lists so that `--help` loads no service code; valid-values.unit.test.ts fails when one
 * drifts from its source (operator-api's read models, platform's roles).
 */

/** `replay` targets: all, or an operator read model by its short name (operator.wallets → wallets). */
export const REPLAY_TARGETS = ['all', 'leads', 'decisions', 'assignments', 'catalogue', 'providers', 'subscriptions', 'wallets', 'audit'] as const;

/** The roles of operator tokens (platform's ROLES). */
export const TOKEN_ROLES = ['viewer', 'operator', 'admin'] as const;

/** States a reader of the event log reports. */
export const READER_STATES = ['running', 'stalled'] as const;
