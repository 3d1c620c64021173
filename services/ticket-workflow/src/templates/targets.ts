import { basename } from 'node:path';
import type { ConfinedRoot } from './confined-root';
import { discoverProjects } from './discovery';
import type { DistributionTarget } from './ports';

/**
 * Targets for explicit directories: each resolved inside the projects root (refused
 * otherwise), identified by its real path, named by the folder.
 */
export async function targetsFromDirectories(root: ConfinedRoot, directories: readonly string[]): Promise<DistributionTarget[]> {
  const targets: DistributionTarget[] = [];
  for (const dir of directories) {
    const directory = await root.resolve(dir, 'directory');
    targets.push({ target: directory, project: basename(directory), projectId: null, directory });
  }
  return targets;
}

/** Targets found under a base directory (see discoverProjects). */
export async function targetsFromDiscovery(root: ConfinedRoot, baseDir: string): Promise<DistributionTarget[]> {
  return targetsFromDirectories(root, await discoverProjects(root, baseDir));
}
