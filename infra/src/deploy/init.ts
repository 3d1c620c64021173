/**
 * fairlead-init, the one-shot service of docker-compose.yml: it runs before every Fairlead
 * service (`depends_on: service_completed_successfully`) and prepares the state volume they
 * read, so that a service never has to create shared state itself. Today that is the
 * directories ticket-workflow's TEMPLATES_ROOT and PROJECTS_ROOT name (which must exist).
 * The services' credentials are the other one-shots' (bootstrap-main.ts, secrets.ts).
 *
 * Node's modules only: it runs from the image, where no workspace of infra is installed
 * (see IMAGE_TOOLS in build/bundle.ts).
 */
import { chmod, mkdir, stat } from 'node:fs/promises';
import { isAbsolute, normalize } from 'node:path';

export class InitUsageError extends Error {}

/** The directories named on the command line: absolute, normalised, no NUL, at least one. */
export function parseDirectories(args: readonly string[]): string[] {
  if (args.length === 0) throw new InitUsageError('usage: fairlead-init <absolute directory>… (the directories to prepare)');
  return args.map((arg) => {
    if (arg.includes('\0') || !isAbsolute(arg)) throw new InitUsageError(`not an absolute directory: ${JSON.stringify(arg)}`);
    return normalize(arg);
  });
}

/**
 * Creates each directory (and its parents) for the running user, owner-only (0700); one
 * that exists is made owner-only too. Idempotent: a restart of the deployment runs it again.
 * Returns the directories it created.
 */
export async function prepareDirectories(directories: readonly string[]): Promise<string[]> {
  const created: string[] = [];
  for (const directory of directories) {
    const existed = await stat(directory).then(
      (s) => {
        if (!s.isDirectory()) throw new InitUsageError(`${directory} exists and is not a directory`);
        return true;
      },
      () => false,
    );
    await mkdir(directory, { recursive: true, mode: 0o700 });
    await chmod(directory, 0o700);
    if (!existed) created.push(directory);
  }
  return created;
}
