import { isAbsolute, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { z } from 'zod';
import { DistributeTemplateInput, DistributionRef, ListDistributionsInput } from '../application/schemas';
import { isTicketWorkflowError } from '../domain/index';
import { checkPathSyntax } from '../templates/confined-root';

export const USAGE = `Usage:
  tickets distribute --template <file.md> [--name <name>] [--project <id>]... [--dir <path>]... [--discover <base-dir>]
                     [--base-dir <dir>] [--keyword name=value]... [--keywords-file <file>] [--plan a,b,c] [--force] [--dry-run] [--json]
                     [--templates-root <dir>] [--projects-root <dir>]
  tickets rollback <distribution-id> [--projects-root <dir>] [--json]
  tickets history [<distribution-id>] [--template <name>] [--json]

Targets: registered projects (--project), explicit directories (--dir), or every project folder under --discover.
--dry-run previews what would be written. The log .ticket_distribution_log goes to --base-dir (default: --discover).
Files are read only inside the templates root and written only inside the projects root (--templates-root,
--projects-root, else TEMPLATES_ROOT / PROJECTS_ROOT, else the current directory); '..' in a path is refused.`;

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Roots given on the command line; main.ts falls back to the environment, then the working directory. */
export interface CliRoots {
  templates?: string;
  projects?: string;
}

export type CliCommand =
  | { command: 'distribute'; input: z.output<typeof DistributeTemplateInput>; roots: CliRoots; json: boolean }
  | { command: 'rollback'; distributionId: string; roots: CliRoots; json: boolean }
  | { command: 'history'; distributionId: string | null; filter: z.output<typeof ListDistributionsInput>; json: boolean }
  | { command: 'help' };

/** Parses and validates the command line; relative paths are taken from `cwd`. Throws UsageError with the reasons. */
export function parseCommandLine(argv: readonly string[], cwd: string, readFileSync: (path: string) => string): CliCommand {
  const [command, ...rest] = argv;
  // `..` is refused before resolving (resolve() would silently fold it away).
  const abs = (p: string, flag: string) => {
    try {
      checkPathSyntax(p, flag);
    } catch (error) {
      if (isTicketWorkflowError(error)) throw new UsageError(error.message);
      throw error;
    }
    return isAbsolute(p) ? resolve(p) : resolve(cwd, p);
  };
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        template: { type: 'string' },
        name: { type: 'string' },
        project: { type: 'string', multiple: true },
        dir: { type: 'string', multiple: true },
        discover: { type: 'string' },
        'base-dir': { type: 'string' },
        keyword: { type: 'string', multiple: true },
        'keywords-file': { type: 'string' },
        plan: { type: 'string' },
        force: { type: 'boolean', default: false },
        'dry-run': { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        'templates-root': { type: 'string' },
        'projects-root': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values: v, positionals } = parsed;
  if (v.help || command === undefined || command === 'help') return { command: 'help' };
  const roots: CliRoots = {
    ...(v['templates-root'] ? { templates: abs(v['templates-root'], '--templates-root') } : {}),
    ...(v['projects-root'] ? { projects: abs(v['projects-root'], '--projects-root') } : {}),
  };
  switch (command) {
    case 'distribute': {
      if (positionals.length > 0) throw new UsageError(`unexpected argument: ${positionals[0]}`);
      const keywords: Record<string, string> = {};
      if (v['keywords-file']) Object.assign(keywords, parseKeywordsFile(readFileSync(abs(v['keywords-file'], '--keywords-file'))));
      for (const pair of v.keyword ?? []) {
        const eq = pair.indexOf('=');
        if (eq <= 0) throw new UsageError(`--keyword expects name=value, got ${JSON.stringify(pair)}`);
        keywords[pair.slice(0, eq).trim()] = pair.slice(eq + 1);
      }
      const input = DistributeTemplateInput.safeParse({
        ...(v.template ? { template_path: abs(v.template, '--template') } : {}),
        ...(v.name ? { template_name: v.name } : {}),
        ...(v.project ? { project_ids: v.project } : {}),
        ...(v.dir ? { directories: v.dir.map((d) => abs(d, '--dir')) } : {}),
        ...(v.discover ? { discover_under: abs(v.discover, '--discover') } : {}),
        ...(v['base-dir'] ? { base_dir: abs(v['base-dir'], '--base-dir') } : {}),
        keywords,
        ...(v.plan ? { execution_plan: v.plan.split(',').map((s) => s.trim()).filter(Boolean) } : {}),
        force: v.force,
        dry_run: v['dry-run'],
      });
      if (!input.success) throw new UsageError(describe(input.error, { template: '--template', template_path: '--template', project_ids: '--project', template_name: '--name', execution_plan: '--plan' }));
      return { command: 'distribute', input: input.data, roots, json: v.json ?? false };
    }
    case 'rollback': {
      const ref = DistributionRef.safeParse({ distribution_id: positionals[0] });
      if (!ref.success || positionals.length !== 1) throw new UsageError('rollback takes one distribution id, e.g. tickets rollback dist_20250101_120000_ab12cd');
      return { command: 'rollback', distributionId: ref.data.distribution_id, roots, json: v.json ?? false };
    }
    case 'history': {
      const filter = ListDistributionsInput.safeParse({ ...(v.name ? { template_name: v.name } : {}), ...(v.template ? { template_name: v.template } : {}) });
      if (!filter.success) throw new UsageError(describe(filter.error, {}));
      const id = positionals[0] ?? null;
      if (id !== null && !DistributionRef.safeParse({ distribution_id: id }).success) throw new UsageError(`not a distribution id: ${JSON.stringify(id)}`);
      return { command: 'history', distributionId: id, filter: filter.data, json: v.json ?? false };
    }
    default:
      throw new UsageError(`unknown command: ${command}`);
  }
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

function describe(error: z.ZodError, flags: Record<string, string>): string {
  return error.issues
    .map((issue) => {
      const field = String(issue.path[0] ?? '');
      return `${flags[field] ?? (field ? `--${field.replace(/_/g, '-')}` : 'arguments')}: ${issue.message}`;
    })
    .join('\n');
}
