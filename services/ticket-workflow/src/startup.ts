/**
 * What the process needs from its configuration beyond plain values: the agents' MCP token
 * (from the environment, a file, or, outside production, generated locally as the JWT
 * development secret is) and the template distribution roots.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { defaultSecretFile, loadOrCreateSecretFile, readSecretFile } from '@fairlead/platform';
import type { TicketWorkflowConfig } from './config';

/** `<data dir>/auth/mcp-token`, beside the JWT development secret (FAIRLEAD_DATA_DIR, else the repository's .data). */
export const defaultMcpTokenFile = (): string => join(dirname(defaultSecretFile()), 'mcp-token');

/** `<data dir>/ticket-workflow/{templates,projects}`: nothing outside the data directory until an operator says so. */
export const defaultRoots = () => {
  const base = join(dirname(dirname(defaultSecretFile())), 'ticket-workflow');
  return { templatesRoot: join(base, 'templates'), projectsRoot: join(base, 'projects') };
};

export interface McpTokenSource {
  token: string;
  /** The file it came from (to tell the user where it is), when it came from one. */
  file?: string;
  generated: boolean;
}

interface Config {
  NODE_ENV: TicketWorkflowConfig['NODE_ENV'];
  MCP_AUTH: readonly string[];
  MCP_TOKEN?: string | undefined;
  MCP_TOKEN_FILE?: string | undefined;
}

/**
 * The agents' token, when /mcp accepts one: MCP_TOKEN; else MCP_TOKEN_FILE (which must
 * exist in production); else, outside production, the local file, created (0600) when
 * missing. The configuration schema already refused production without either.
 */
export async function resolveMcpToken(config: Config): Promise<McpTokenSource | undefined> {
  if (!config.MCP_AUTH.includes('token')) return undefined;
  if (config.MCP_TOKEN) return { token: config.MCP_TOKEN, generated: false };
  const file = config.MCP_TOKEN_FILE ?? defaultMcpTokenFile();
  if (config.NODE_ENV === 'production') {
    const token = await readSecretFile(file);
    if (!token) throw new Error(`MCP_TOKEN_FILE ${file} does not hold a token of at least 32 characters`);
    return { token, file, generated: false };
  }
  const existed = (await readSecretFile(file)) !== undefined;
  return { token: await loadOrCreateSecretFile(file), file, generated: !existed };
}

/** The roots as configured, or the data-directory defaults (created, owner only). Configured ones must already exist. */
export async function resolveRoots(config: { TEMPLATES_ROOT?: string | undefined; PROJECTS_ROOT?: string | undefined }): Promise<{ templatesRoot: string; projectsRoot: string }> {
  const defaults = defaultRoots();
  if (!config.TEMPLATES_ROOT) await mkdir(defaults.templatesRoot, { recursive: true, mode: 0o700 });
  if (!config.PROJECTS_ROOT) await mkdir(defaults.projectsRoot, { recursive: true, mode: 0o700 });
  return { templatesRoot: config.TEMPLATES_ROOT ?? defaults.templatesRoot, projectsRoot: config.PROJECTS_ROOT ?? defaults.projectsRoot };
}
