/**
 * One `npm start` per data directory: a second one would take the first one's servers
 * for leftovers of a killed run and stop them. The pid file names the running one.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export async function claimRunLock(file: string): Promise<{ release(): Promise<void> }> {
  await mkdir(dirname(file), { recursive: true });
  const holder = Number((await readFile(file, 'utf8').catch(() => '')).trim());
  if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) {
    const cmdline = (await readFile(`/proc/${holder}/cmdline`, 'utf8').catch(() => '')).replaceAll('\0', ' ');
    // A reused pid of some other program does not hold the lock.
    if (cmdline === '' || cmdline.includes('start.ts')) {
      throw new Error(`another npm start (pid ${holder}) is running with the data directory ${dirname(dirname(file))}; stop it first, or set FAIRLEAD_DATA_DIR and other ports`);
    }
  }
  await writeFile(file, `${process.pid}\n`);
  return {
    release: async () => {
      const current = Number((await readFile(file, 'utf8').catch(() => '')).trim());
      if (current === process.pid) await rm(file, { force: true });
    },
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
