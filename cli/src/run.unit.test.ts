import { describe, expect, it } from 'vitest';
import { runFairlead } from './run';

const JWT_SECRET = 'a-development-secret-of-at-least-32-characters';

/** Streams for one run: stdout fails on write (a bug the CLI did not foresee), stderr is kept. */
function brokenStdout() {
  let err = '';
  const stdout = {
    write: () => {
      throw new Error('stdout is broken');
    },
  } as unknown as NodeJS.WriteStream;
  const stderr = { write: (s: string) => ((err += s), true) } as unknown as NodeJS.WriteStream;
  return { io: { stdout, stderr, cwd: '/' }, err: () => err };
}

describe('an unexpected error', () => {
  it('is one line with exit code 1, saying how to see the stack', async () => {
    const run = brokenStdout();
    const code = await runFairlead(['token', '--role', 'viewer'], { ...run.io, env: { JWT_SECRET } });
    expect(code).toBe(1);
    expect(run.err()).toBe('fairlead: unexpected error: stdout is broken (--verbose or DEBUG=fairlead shows the stack trace)\n');
  });

  it('shows its stack with --verbose or DEBUG=fairlead', async () => {
    for (const [argv, env] of [
      [['token', '--role', 'viewer', '--verbose'], { JWT_SECRET }],
      [['token', '--role', 'viewer'], { JWT_SECRET, DEBUG: 'express,fairlead' }],
    ] as const) {
      const run = brokenStdout();
      expect(await runFairlead(argv, { ...run.io, env })).toBe(1);
      expect(run.err()).toMatch(/^fairlead: unexpected error: stdout is broken\nError: stdout is broken\n\s+at /);
    }
  });
});

describe('--version', () => {
  it('prints the version, exit code 0', async () => {
    let out = '';
    const stdout = { write: (s: string) => ((out += s), true) } as unknown as NodeJS.WriteStream;
    expect(await runFairlead(['--version'], { stdout, stderr: stdout, env: {}, cwd: '/' })).toBe(0);
    expect(out).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});
