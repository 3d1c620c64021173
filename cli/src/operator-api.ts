/**
 * A small client of the operator API for the `projections` commands: the API is the one
 * place that gathers every process's reader status (over NATS), checks roles and MFA, and
 * records an operator's retry or park with its audit entry, so the CLI goes through it.
 * Answers are validated with zod; a refused connection is exit code 3 with what to do.
 */
import { userInfo } from 'node:os';
import { z } from 'zod';
import { jwtConfigSchema, mintToken, readSecretFile, type Role } from '@fairlead/platform';
import { cliEnvSchema } from './cli-env';
import { CliError, EXIT, failed, unreachable, usageError } from './exit-codes';
import { localJwtSecretFile, localOperatorApiUrl } from './local-defaults';
import { readEnv, type Env } from './settings';

const ApiEnv = z.object({
  ...cliEnvSchema.shape,
  ...jwtConfigSchema.pick({ JWT_SECRET: true, JWT_SECRET_FILE: true, JWT_ISSUER: true, JWT_AUDIENCE: true }).shape,
});

export interface ApiOptions {
  /** --api */
  api?: string | undefined;
  /** --token */
  token?: string | undefined;
}

/** What a call needs: the role (and MFA) of the token minted when none is given. */
export interface Need {
  role: Role;
  mfa: boolean;
}

export interface OperatorApi {
  baseUrl: string;
  request<S extends z.ZodType>(method: 'GET' | 'POST', path: string, answer: S, body?: unknown): Promise<z.output<S>>;
}

const Problem = z.object({ title: z.string().optional(), detail: z.string().optional(), code: z.string().optional(), status: z.number().optional() }).loose();
export type Problem = z.output<typeof Problem>;

/** An answer of the API that is not a success: its status and problem document. */
export class ApiProblem extends CliError {
  constructor(
    readonly status: number,
    readonly problem: Problem,
    message: string,
  ) {
    super(status === 401 ? EXIT.unreachable : EXIT.failed, message);
  }
}

/** The bearer token: --token, FAIRLEAD_TOKEN, else one minted for this call from JWT_SECRET or the local development secret. */
async function tokenFor(options: ApiOptions, config: z.output<typeof ApiEnv>, need: Need): Promise<string> {
  const given = options.token ?? config.FAIRLEAD_TOKEN;
  if (given) return given;
  const secret = config.JWT_SECRET ?? (await readSecretFile(config.JWT_SECRET_FILE));
  if (!secret) {
    throw usageError(`no token: give --token or FAIRLEAD_TOKEN (no JWT_SECRET, and no local development secret at ${config.JWT_SECRET_FILE} — has npm start run here?)`);
  }
  // Short-lived and named after the local user, so the audit log says who acted from the CLI.
  return mintToken({ secret, issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE, sub: `cli:${userInfo().username}`, roles: [need.role], mfa: need.mfa, ttlSec: 300 });
}

export async function operatorApi(env: Env, options: ApiOptions, need: Need): Promise<OperatorApi> {
  const config = readEnv(ApiEnv, { ...env, JWT_SECRET_FILE: localJwtSecretFile(env) });
  const baseUrl = (options.api ?? config.FAIRLEAD_API_URL ?? localOperatorApiUrl(env)).replace(/\/+$/, '');
  const token = await tokenFor(options, config, need);
  const where = options.api ? '--api' : config.FAIRLEAD_API_URL ? 'FAIRLEAD_API_URL' : undefined;
  return {
    baseUrl,
    async request(method, path, answer, body) {
      let response: Response;
      try {
        response = await fetch(`${baseUrl}${path}`, {
          method,
          headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: AbortSignal.timeout(15_000),
        });
      } catch (error) {
        const cause = (error as { cause?: { code?: string } }).cause;
        const reason = cause?.code ?? (error as Error).name;
        const todo = where ? `check ${where}` : 'start the local system with `npm start` (or give --api / FAIRLEAD_API_URL)';
        throw unreachable(`cannot reach the operator API at ${baseUrl} (${reason}): ${todo}`, error);
      }
      const text = await response.text();
      let json: unknown;
      try {
        json = text === '' ? undefined : JSON.parse(text);
      } catch {
        json = undefined;
      }
      if (!response.ok) {
        const problem = Problem.safeParse(json).data ?? {};
        const said = problem.detail ?? problem.title ?? text.slice(0, 200);
        const hint = response.status === 401 ? ' — the API refused the token: give --token or FAIRLEAD_TOKEN (or the JWT_SECRET the API uses)' : '';
        throw new ApiProblem(response.status, problem, `operator API ${method} ${path}: ${response.status}${problem.code ? ` ${problem.code}` : ''}: ${said}${hint}`);
      }
      const parsed = answer.safeParse(json);
      if (!parsed.success) throw failed(`unexpected answer from the operator API ${method} ${path}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
      return parsed.data;
    },
  };
}
