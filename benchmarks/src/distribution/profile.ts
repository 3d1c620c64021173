/**
 * Reads the `.cpuprofile` files that `node --cpu-prof` writes at exit and sums self time
 * per function and per code origin (package, Fairlead library, node internals), counting
 * only the samples taken inside a time window (the saturation phase). V8 stamps samples
 * with the monotonic clock, the one process.hrtime() reads, so windows from this process
 * apply to the profiled ones.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface CpuProfile {
  nodes: { id: number; callFrame: CallFrame }[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  /** Sampled time inside the window, ms. */
  totalMs: number;
  /** Share of the window the process was idle (waiting for I/O). */
  idleShare: number;
  functions: { name: string; ms: number; share: number }[];
  origins: { origin: string; ms: number; share: number }[];
}

/** Monotonic time in microseconds, on the profiles' clock. */
export const monotonicMicros = (): number => Number(process.hrtime.bigint() / 1_000n);

function shortUrl(url: string, repoRoot: string): string {
  const path = url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('/node_modules/');
  if (nm !== -1) return path.slice(nm + '/node_modules/'.length);
  return path.startsWith(repoRoot) ? path.slice(repoRoot.length + 1) : path;
}

function originOf(frame: CallFrame, repoRoot: string): string {
  if (frame.functionName.startsWith('(') && frame.url === '') return frame.functionName;
  if (frame.url === '') return '(native / V8 builtins)';
  if (frame.url.startsWith('node:')) return 'node internals';
  const path = frame.url.replace(/^file:\/\//, '');
  const nm = path.lastIndexOf('/node_modules/');
  if (nm !== -1) {
    const rest = path.slice(nm + '/node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const local = path.startsWith(repoRoot) ? path.slice(repoRoot.length + 1).split('/') : [];
  if (local[0] === 'libs' || local[0] === 'services') return `fairlead ${local[0]}/${local[1]}`;
  return 'other';
}

export async function summariseProfiles(dir: string, window: { fromUs: number; toUs: number }, repoRoot: string, top = 12): Promise<ProfileSummary | undefined> {
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.cpuprofile'));
  if (files.length === 0) return undefined;
  const byFunction = new Map<string, number>();
  const byOrigin = new Map<string, number>();
  let total = 0;
  let idle = 0;
  // One file per thread: tsx's module-hooks thread is idle after start-up; the main thread (most busy samples) is the one to read.
  let main: { profile: CpuProfile; busy: number } | undefined;
  for (const file of files) {
    const profile = JSON.parse(await readFile(join(dir, file), 'utf8')) as CpuProfile;
    const idleIds = new Set(profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));
    const busy = profile.samples.filter((id) => !idleIds.has(id)).length;
    if (!main || busy > main.busy) main = { profile, busy };
  }
  if (main) {
    const { profile } = main;
    const frames = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
    let t = profile.startTime;
    for (let i = 0; i < profile.samples.length; i++) {
      t += profile.timeDeltas[i] ?? 0;
      if (t < window.fromUs || t > window.toUs) continue;
      // A sample stands for the time until the next one.
      const us = profile.timeDeltas[i + 1] ?? 0;
      const frame = frames.get(profile.samples[i]!)!;
      total += us;
      if (frame.functionName === '(idle)') {
        idle += us;
        continue;
      }
      const name = frame.url ? `${frame.functionName || '(anonymous)'}  ${shortUrl(frame.url, repoRoot)}:${frame.lineNumber + 1}` : frame.functionName || '(anonymous)';
      byFunction.set(name, (byFunction.get(name) ?? 0) + us);
      const origin = originOf(frame, repoRoot);
      byOrigin.set(origin, (byOrigin.get(origin) ?? 0) + us);
    }
  }
  const busy = total - idle;
  const rank = (m: Map<string, number>, n: number) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([k, us]) => ({ k, ms: us / 1_000, share: busy > 0 ? us / busy : 0 }));
  return {
    totalMs: total / 1_000,
    idleShare: total > 0 ? idle / total : 0,
    functions: rank(byFunction, top).map(({ k, ms, share }) => ({ name: k, ms, share })),
    origins: rank(byOrigin, 10).map(({ k, ms, share }) => ({ origin: k, ms, share })),
  };
}
