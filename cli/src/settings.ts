/** Reading the environment with zod: a bad value is a usage error naming the variable, on one line. */
import type { z } from 'zod';
import { usageError } from './exit-codes';

export type Env = Readonly<Record<string, string | undefined>>;

/** The zod issues as one line: `FIELD: message; FIELD: message`. */
export function issuesLine(error: z.ZodError, label: (path: readonly PropertyKey[]) => string = (p) => p.map(String).join('.')): string {
  return error.issues.map((issue) => `${issue.path.length > 0 ? `${label(issue.path)}: ` : ''}${issue.message}`).join('; ');
}

/** Parses the environment (an empty variable counts as unset, as a blank line of .env); throws a usage error naming the bad variables. */
export function readEnv<S extends z.ZodType>(schema: S, env: Env): z.output<S> {
  const given = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(given);
  if (!parsed.success) throw usageError(`invalid setting ${issuesLine(parsed.error)}`);
  return parsed.data;
}
