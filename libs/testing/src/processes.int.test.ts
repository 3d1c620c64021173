import { randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { freePort } from '@fairlead/local-servers';
import { startServiceProcess, startServiceProcesses } from './processes';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Processes whose environment holds FAIRLEAD_TEST_MARKER=<marker> (from /proc). */
async function processesMarked(marker: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const environ = await readFile(`/proc/${entry}/environ`, 'utf8').catch(() => '');
    if (environ.split('\0').includes(`FAIRLEAD_TEST_MARKER=${marker}`)) found.push(Number(entry));
  }
  return found;
}

describe('startServiceProcesses', () => {
  it('starts services side by side, and stops the ones that started when another cannot', async () => {
    const [a, b] = await startServiceProcesses([
      { service: 'libs/testing/src/fixtures/ready-server.ts', env: {} },
      { service: 'libs/testing/src/fixtures/ready-server.ts', env: {} },
    ]);
    expect(alive(a!.pid!) && alive(b!.pid!)).toBe(true);
    await Promise.all([a!.stop(), b!.stop()]);
    expect(alive(a!.pid!) || alive(b!.pid!)).toBe(false);

    const marker = randomUUID();
    const error = await startServiceProcesses([
      { service: 'libs/testing/src/fixtures/ready-server.ts', env: { FAIRLEAD_TEST_MARKER: marker } },
      { service: 'libs/testing/src/fixtures/failing-service.ts', env: {} },
    ]).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/failing-service\.ts exited with 1 before it was ready[\s\S]*configuration is missing/);
    // The server that did start is not left running.
    expect(await processesMarked(marker)).toEqual([]);
  });

  it('starts again on another port when the one it chose was taken before the service could bind it', async () => {
    // Another test's process takes the port between the probe and the service's listen.
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const taken = (squatter.address() as { port: number }).port;
    const offered = [taken];
    try {
      const p = await startServiceProcess({ service: 'libs/testing/src/fixtures/ready-server.ts', env: {}, freePort: async () => offered.shift() ?? freePort() });
      expect(p.output()).toContain('EADDRINUSE');
      expect(p.port).not.toBe(taken);
      expect((await fetch(`http://127.0.0.1:${p.port}/readyz`)).status).toBe(200);
      await p.stop();
    } finally {
      squatter.close();
    }
  });

  it('does not move a port the caller gave: a taken HTTP_PORT is an error', async () => {
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const taken = (squatter.address() as { port: number }).port;
    try {
      const error = await startServiceProcess({ service: 'libs/testing/src/fixtures/ready-server.ts', env: { HTTP_PORT: String(taken) } }).catch((e: unknown) => e);
      expect((error as Error).message).toMatch(/exited with 1 before it was ready[\s\S]*EADDRINUSE/);
    } finally {
      squatter.close();
    }
  });
});
