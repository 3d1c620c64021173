import { basename, resolve } from 'node:path';
import { discoverProjects } from './discovery';
import type { DistributionTarget } from './ports';

/** Targets for explicit directories: identified by absolute path, named by the folder. */
export function targetsFromDirectories(directories: readonly string[]): DistributionTarget[] {
  return directories.map((dir) => {
    const directory = resolve(dir);
    return { target: directory, project: basename(directory), projectId: null, directory };
  });
}

/** Targets found under a base directory (see discoverProjects). */
export async function targetsFromDiscovery(baseDir: string): Promise<DistributionTarget[]> {
  return targetsFromDirectories(await discoverProjects(baseDir));
}
