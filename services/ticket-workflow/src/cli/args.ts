/**
 * The `fairlead tickets` commands' arguments: the CLI (cli/) reads the command line and
 * hands each command's option values here, where they are checked and turned into the
 * application's validated inputs (no I/O beyond reading a keywords file). Relative paths
 * are taken from the user's working directory; `..` and NUL are refused before resolving.
 */
import { isAbsolute, resolve } from 'node:path';
import type { z } from 'zod';
import { DistributeTemplateInput, DistributionRef, ListDistributionsInput } from '../application/schemas';
import { isTicketWorkflowError } from '../domain/index';
import { checkPathSyntax } from '../templates/confined-root';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Roots given on the command line; the run falls back to the environment, then the working directory. */
export interface CliRoots {
  templates?: string;
  projects?: string;
}

export type CliCommand =
  | { command: 'distribute'; input: z.output<typeof DistributeTemplateInput>; roots: CliRoots; json: boolean }
  | { command: 'rollback'; distributionId: string; roots: CliRoots; json: boolean }
  | { command: 'history'; distributionId: string | null; filter: z.output<typeof ListDistributionsInput>; json: boolean };

/** Options of `tickets distribute`, as the command line gives them (repeatable ones as lists). */
export interface DistributeOptions {
  template?: string;
  name?: string;
  project?: string[];
  dir?: string[];
  discover?: string;
  baseDir?: string;
  keyword?: string[];
  keywordsFile?: string;
  plan?: string;
  force?: boolean;
  dryRun?: boolean;
  json?: boolean;
  templatesRoot?: string;
  projectsRoot?: string;
}

/** Where the files are: the working directory, and how to read a file (tests give their own). */
export interface ArgsContext {
  cwd: string;
  readFileSync: (path: string) => string;
}

/** A path of the command line made absolute, after refusing `..` (resolve() would silently fold it away). */
function absolutePath(path: string, flag: string, cwd: string): string {
  try {
    checkPathSyntax(path, flag);
  } catch (error) {
    if (isTicketWorkflowError(error)) throw new UsageError(error.message);
    throw error;
  }
  return isAbsolute(path) ? resolve(path) : resolve(cwd, path);
}

function rootsOf(options: { templatesRoot?: string | undefined; projectsRoot?: string | undefined }, cwd: string): CliRoots {
  return {
    ...(options.templatesRoot ? { templates: absolutePath(options.templatesRoot, '--templates-root', cwd) } : {}),
    ...(options.projectsRoot ? { projects: absolutePath(options.projectsRoot, '--projects-root', cwd) } : {}),
  };
}

export function distributeCommand(o: DistributeOptions, ctx: ArgsContext): CliCommand {
  const abs = (p: string, flag: string) => absolutePath(p, flag, ctx.cwd);
  const roots = rootsOf(o, ctx.cwd);
  const keywords: Record<string, string> = {};
  if (o.keywordsFile) Object.assign(keywords, parseKeywordsFile(ctx.readFileSync(abs(o.keywordsFile, '--keywords-file'))));
  for (const pair of o.keyword ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--keyword expects name=value, got ${JSON.stringify(pair)}`);
    keywords[pair.slice(0, eq).trim()] = pair.slice(eq + 1);
  }
  const input = DistributeTemplateInput.safeParse({
    ...(o.template ? { template_path: abs(o.template, '--template') } : {}),
    ...(o.name ? { template_name: o.name } : {}),
    ...(o.project ? { project_ids: o.project } : {}),
    ...(o.dir ? { directories: o.dir.map((d) => abs(d, '--dir')) } : {}),
    ...(o.discover ? { discover_under: abs(o.discover, '--discover') } : {}),
    ...(o.baseDir ? { base_dir: abs(o.baseDir, '--base-dir') } : {}),
    keywords,
    ...(o.plan ? { execution_plan: o.plan.split(',').map((s) => s.trim()).filter(Boolean) } : {}),
    force: o.force ?? false,
    dry_run: o.dryRun ?? false,
  });
  if (!input.success) throw new UsageError(describe(input.error, { template: '--template', template_path: '--template', project_ids: '--project', template_name: '--name', execution_plan: '--plan' }));
  return { command: 'distribute', input: input.data, roots, json: o.json ?? false };
}

export function rollbackCommand(distributionId: string, o: { projectsRoot?: string; json?: boolean }, ctx: Pick<ArgsContext, 'cwd'>): CliCommand {
  const ref = DistributionRef.safeParse({ distribution_id: distributionId });
  if (!ref.success) throw new UsageError(`not a distribution id: ${JSON.stringify(distributionId)} (e.g. dist_20250101_120000_ab12cd)`);
  return { command: 'rollback', distributionId: ref.data.distribution_id, roots: rootsOf(o, ctx.cwd), json: o.json ?? false };
}

export function historyCommand(distributionId: string | undefined, o: { template?: string; json?: boolean }): CliCommand {
  const filter = ListDistributionsInput.safeParse(o.template ? { template_name: o.template } : {});
  if (!filter.success) throw new UsageError(describe(filter.error, { template_name: '--template' }));
  if (distributionId !== undefined && !DistributionRef.safeParse({ distribution_id: distributionId }).success) throw new UsageError(`not a distribution id: ${JSON.stringify(distributionId)}`);
  return { command: 'history', distributionId: distributionId ?? null, filter: filter.data, json: o.json ?? false };
}

function parseKeywordsFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$/.exec(line);
    if (!m) throw new UsageError(`--keywords-file line ${i + 1}: expected name = value`);
    out[m[1]!] = m[2]!.replace(/^"(.*)"$/, '$1');
  }
  return out;
}

/** The zod issues as one line, each under the flag the user typed. */
function describe(error: z.ZodError, flags: Record<string, string>): string {
  return error.issues
    .map((issue) => {
      const field = String(issue.path[0] ?? '');
      return `${flags[field] ?? (field ? `--${field.replace(/_/g, '-')}` : 'arguments')}: ${issue.message}`;
    })
    .join('; ');
}
