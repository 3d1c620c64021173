/** Runs the CLI in this process with captured output (unit tests of parsing, help and exit codes). */
import { runFairlead } from './run';

export interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

/** A write stream that keeps what is written. */
function sink(): NodeJS.WriteStream & { text: () => string } {
  let text = '';
  return {
    isTTY: false,
    columns: 100,
    write: (chunk: string | Uint8Array) => {
      text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
      return true;
    },
    text: () => text,
  } as unknown as NodeJS.WriteStream & { text: () => string };
}

export async function runCaptured(argv: readonly string[], env: Record<string, string | undefined> = {}, cwd = '/nonexistent'): Promise<Captured> {
  const stdout = sink();
  const stderr = sink();
  const code = await runFairlead(argv, { stdout, stderr, env, cwd });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}
