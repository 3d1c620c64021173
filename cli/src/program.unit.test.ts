import { describe, expect, it } from 'vitest';
import { allCommands, buildProgram, commandPath, reflow } from './program';
import { runCaptured } from './testing';

const io = { stdout: process.stdout, stderr: process.stderr, env: {}, cwd: '/', exit: () => undefined };
const commands = allCommands(buildProgram(io));
/** `['audit', 'lead']` for `fairlead audit lead`. */
const argvOf = (path: string) => path.split(' ').slice(1);
const leaves = commands.filter((c) => c.commands.length === 0 && c.name() !== 'help');

/** A user error: one line on stderr, no stack trace, nothing on stdout. */
function expectOneLine(run: { stderr: string; stdout: string }) {
  expect(run.stderr.trim().split('\n'), run.stderr).toHaveLength(1);
  expect(run.stderr).not.toMatch(/\n\s+at /);
  expect(run.stdout).toBe('');
}

describe('fairlead --help', () => {
  it('has every command of the issue, and each has help', () => {
    const paths = commands.map(commandPath);
    for (const path of ['fairlead replay', 'fairlead verify', 'fairlead audit lead', 'fairlead audit export', 'fairlead events tail', 'fairlead tickets distribute', 'fairlead tickets rollback', 'fairlead tickets history', 'fairlead token', 'fairlead projections list', 'fairlead projections retry', 'fairlead projections park']) {
      expect(paths).toContain(path);
    }
  });

  it.each(commands.filter((c) => c.name() !== 'help').map(commandPath))('%s --help: usage on stdout, exit 0', async (path) => {
    const run = await runCaptured([...argvOf(path), '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Usage: ${path}`);
    expect(run.stderr).toBe('');
  });

  it.each(leaves.map(commandPath))('%s --help shows examples of itself', async (path) => {
    const run = await runCaptured([...argvOf(path), '--help']);
    expect(run.stdout).toMatch(/Examples:\n {2}\$ /);
    expect(run.stdout).toContain(`$ ${path}`);
  });

  it('documents the environment and the exit codes at the top', async () => {
    const run = await runCaptured(['--help']);
    for (const text of ['DATABASE_URL', 'FAIRLEAD_DATA_DIR', 'FAIRLEAD_API_URL', 'Exit codes:', '  0  done', '  1  a check found a problem', '  2  usage', '  3  the system cannot be reached']) expect(run.stdout).toContain(text);
    expect((await runCaptured(['help', 'verify'])).stdout).toContain('Usage: fairlead verify');
  });

  it('lists the valid values where a choice is asked for', async () => {
    expect((await runCaptured(['replay', '--help'])).stdout).toMatch(/choices: "all", "leads",[^)]*"wallets"/);
    expect((await runCaptured(['token', '--help'])).stdout).toMatch(/choices:\s+"viewer", "operator", "admin"/);
    expect((await runCaptured(['projections', 'list', '--help'])).stdout).toMatch(/choices: "running", "stalled"/);
  });
});

describe('usage errors: one line naming the help, exit code 2', () => {
  it.each([
    [['verify', '--bogus'], /^fairlead verify: unknown option '--bogus' \(see: fairlead verify --help\)$/],
    [['frobnicate'], /^fairlead: unknown command 'frobnicate'/],
    [['replay'], /missing required argument 'projection'/],
    [['replay', 'nonsense'], /Allowed choices are all, leads, .*wallets/],
    [['replay', 'all', '--until', '5'], /^fairlead replay: --into: --until and --into go together/],
    [['replay', 'all', '--until', 'yesterday', '--into', 'x'], /--until: not a global position or an ISO time: yesterday/],
    [['replay', 'all', '--until', '5', '--into', 'operator'], /the live schema cannot be the target/],
    [['verify', '--batch-size', '0'], /--batch-size: Too small/],
    [['verify', '--batch-size', 'lots'], /--batch-size: /],
    [['verify', 'extra'], /too many arguments/],
    [['audit', 'export', '--from', '1'], /required option '--to <point>' not specified/],
    [['events', 'tail', '--stream', 'lead-1', '--category', 'lead'], /--stream: give --stream or --category, not both/],
    [['token', '--role', 'root'], /Allowed choices are viewer, operator, admin/],
    [['token'], /--role: give --role viewer, operator, admin/],
    [['token', '--role', 'admin', '--ttl', '31d'], /--ttl: at most 30 days/],
    [['token', '--role', 'admin', '--ttl', 'soon'], /--ttl: a duration like/],
    [['projections', 'list', '--state', 'asleep'], /Allowed choices are running, stalled/],
    [['projections', 'retry', 'Bad Name!'], /<name>: lower-case letters/],
    [['projections', 'park', 'operator.wallets', '--event', 'e1'], /required option '--reason <text>'/],
    [['tickets', 'distribute', '--template', 'a.md'], /--project: give target projects/],
    [['tickets', 'distribute', '--template', '../secret.md', '--dir', 'x'], /'\.\.' is not allowed in paths/],
    [['tickets', 'rollback', 'dist/../../etc'], /not a distribution id/],
  ])('%j', async (argv, message) => {
    const run = await runCaptured(argv);
    expect(run.code, run.stderr).toBe(2);
    expectOneLine(run);
    expect(run.stderr.trim()).toMatch(message);
  });

  it('a command group without its subcommand shows its help on stderr, exit code 2', async () => {
    for (const argv of [[], ['audit'], ['tickets'], ['projections']]) {
      const run = await runCaptured(argv);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('Usage: fairlead');
    }
  });

  it('a bad setting in the environment is a usage error naming the variable, before any connection', async () => {
    const bad = await runCaptured(['verify'], { DATABASE_URL: 'mysql://db/x' });
    expect(bad.code).toBe(2);
    expectOneLine(bad);
    expect(bad.stderr).toBe('fairlead: invalid setting DATABASE_URL: expected a postgres:// or postgresql:// URL\n');
    const port = await runCaptured(['verify'], { FAIRLEAD_PG_PORT: 'abc' });
    expect(port.code).toBe(2);
    expect(port.stderr).toMatch(/^fairlead: invalid setting FAIRLEAD_PG_PORT: /);
  });
});

describe('reflow', () => {
  it('joins the lines of a paragraph and keeps paragraphs apart', () => {
    expect(reflow('one\ntwo  \n three\n\nfour\nfive')).toBe('one two three\n\nfour five');
  });
});
