/**
 * Reading docker-compose.yml as Docker Compose would, for the tests that keep it right
 * without a container engine: YAML with merge keys (the `yaml` package), then variable
 * interpolation from an env file (`docker compose --env-file …`).
 *
 * Compose's interpolation is written here (no maintained JavaScript package implements it):
 * `$$`, `$NAME`, `${NAME}`, `${NAME:-default}`, `${NAME-default}`, `${NAME:?error}`,
 * `${NAME?error}`, `${NAME:+other}`, `${NAME+other}` — the forms the compose specification
 * lists. Nested expressions in a default are refused rather than half-read.
 */
import { parse } from 'yaml';

export interface ComposeService {
  image?: string;
  build?: string | { context: string; dockerfile?: string };
  command?: string | string[];
  entrypoint?: string | string[];
  /** Started by `up` only with one of these profiles active (`run <service>` starts it anyway). */
  profiles?: string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  env_file?: unknown;
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test: string | string[]; disable?: boolean };
  ports?: unknown[];
  volumes?: unknown[];
  restart?: string;
  user?: string;
}

export interface ComposeFile {
  name?: string;
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
  secrets?: Record<string, unknown>;
}

/** One `${…}` or `$NAME` of a text. */
export interface Interpolation {
  name: string;
  /** `:-`, `-`, `:?`, `?`, `:+`, `+`, or '' for a plain reference. */
  operator: string;
  argument: string;
}

const EXPRESSION = /\$(?:(\$)|\{([^}]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g;
const BRACED = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([\s\S]*))?$/;

export class InterpolationError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(message);
  }
}

function parseExpression(braced: string | undefined, bare: string | undefined): Interpolation {
  if (bare !== undefined) return { name: bare, operator: '', argument: '' };
  const match = BRACED.exec(braced!);
  if (!match) throw new InterpolationError(braced!, `invalid interpolation: \${${braced}}`);
  const argument = match[3] ?? '';
  if (argument.includes('$')) throw new InterpolationError(match[1]!, `nested interpolation is not read here: \${${braced}}`);
  return { name: match[1]!, operator: match[2] ?? '', argument };
}

/** Every interpolation in a text, in order (`$$` is an escaped dollar, not one). */
export function interpolationsIn(text: string): Interpolation[] {
  return [...text.matchAll(EXPRESSION)].filter((m) => m[1] === undefined).map((m) => parseExpression(m[2], m[3]));
}

/** The text with its interpolations resolved from `env`, as compose resolves them; a `?` form whose variable is missing throws. */
export function interpolate(text: string, env: Readonly<Record<string, string>>): string {
  return text.replace(EXPRESSION, (_all, dollar: string | undefined, braced: string | undefined, bare: string | undefined) => {
    if (dollar !== undefined) return '$';
    const { name, operator, argument } = parseExpression(braced, bare);
    const value = env[name];
    const set = value !== undefined;
    const nonEmpty = set && value !== '';
    switch (operator) {
      case '':
        return value ?? '';
      case ':-':
        return nonEmpty ? value : argument;
      case '-':
        return set ? value : argument;
      case ':?':
      case '?':
        if (operator === ':?' ? nonEmpty : set) return value!;
        throw new InterpolationError(name, `required variable ${name} is missing a value: ${argument}`);
      case ':+':
        return nonEmpty ? argument : '';
      default:
        return set ? argument : '';
    }
  });
}

/** Applies `fn` to every string value of a parsed YAML document (compose interpolates values, not keys). */
function mapStrings(value: unknown, fn: (s: string) => string): unknown {
  if (typeof value === 'string') return fn(value);
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, fn));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, fn)]));
  return value;
}

/** The compose file's YAML with merge keys applied, before interpolation. */
export function parseComposeYaml(text: string): ComposeFile {
  return parse(text, { merge: true }) as ComposeFile;
}

export interface ResolvedCompose {
  compose: ComposeFile;
  /** The variables a `?` form required and `env` did not give (compose would refuse to start). */
  missing: string[];
}

/** The compose file as compose runs it with `env` (its --env-file): every interpolation resolved. */
export function resolveCompose(text: string, env: Readonly<Record<string, string>>): ResolvedCompose {
  const missing = new Set<string>();
  const compose = mapStrings(parseComposeYaml(text), (s) => {
    try {
      return interpolate(s, env);
    } catch (error) {
      if (!(error instanceof InterpolationError)) throw error;
      missing.add(error.variable);
      return s;
    }
  }) as ComposeFile;
  return { compose, missing: [...missing].sort() };
}

/** A service's environment as its process sees it (compose's mapping or `KEY=value` list). */
export function environmentOf(service: ComposeService): Record<string, string> {
  const env = service.environment ?? {};
  if (Array.isArray(env)) return Object.fromEntries(env.map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
  return Object.fromEntries(
    Object.entries(env).map(([k, v]) => {
      // A bare key would pass the variable through from the shell of `docker compose`: nothing here relies on that.
      if (v === null) throw new Error(`environment ${k} has no value`);
      return [k, String(v)];
    }),
  );
}

/** depends_on as service → condition (undefined for the short list form, which waits for nothing but the start). */
export function dependenciesOf(service: ComposeService): Record<string, string | undefined> {
  const deps = service.depends_on ?? [];
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((d) => [d, undefined]));
  return Object.fromEntries(Object.entries(deps).map(([name, d]) => [name, d.condition]));
}

export function commandOf(service: ComposeService): string[] {
  const command = service.command ?? [];
  return Array.isArray(command) ? command : command.split(/\s+/);
}

/** One entry of a service's `volumes`, whichever syntax it was written in. */
export interface Mount {
  /** A named volume, or a host path (starting with `.` or `/`). */
  source: string;
  target: string;
  readOnly: boolean;
  /** The folder of the volume mounted instead of its root (long syntax `volume.subpath`). */
  subpath?: string;
}

interface LongMount {
  type?: string;
  source?: string;
  target?: string;
  read_only?: boolean;
  volume?: { subpath?: string };
}

/** A service's mounts: short `source:target[:ro]` strings and long-syntax mappings alike. */
export function mountsOf(service: ComposeService): Mount[] {
  return (service.volumes ?? []).map((entry) => {
    if (typeof entry === 'string') {
      const [source = '', target = '', mode] = entry.split(':');
      return { source, target, readOnly: mode === 'ro' };
    }
    const long = entry as LongMount;
    if (long.type !== 'volume' && long.type !== 'bind') throw new Error(`unsupported mount ${JSON.stringify(entry)}`);
    return { source: long.source ?? '', target: long.target ?? '', readOnly: long.read_only === true, ...(long.volume?.subpath ? { subpath: long.volume.subpath } : {}) };
  });
}
