import { describe, expect, it } from 'vitest';
import { parseCommandLine, UsageError } from './args';

const files: Record<string, string> = { '/work/kw.txt': '# shared\nowner = ops\n' };
const parse = (...argv: string[]) => parseCommandLine(argv, '/work', (p) => files[p] ?? '');

describe('command line', () => {
  it('reads a distribution with relative paths, keywords and flags', () => {
    const cmd = parse('distribute', '--template', 't/audit.md', '--discover', 'projects', '--dir', '/abs/web', '--keywords-file', 'kw.txt', '--keyword', 'team=a=b', '--dry-run', '--plan', 'architect, developer');
    expect(cmd).toEqual({
      command: 'distribute',
      json: false,
      roots: {},
      input: expect.objectContaining({
        template_path: '/work/t/audit.md',
        discover_under: '/work/projects',
        directories: ['/abs/web'],
        keywords: { owner: 'ops', team: 'a=b' },
        dry_run: true,
        force: false,
        execution_plan: ['architect', 'developer'],
      }),
    });
  });

  it('says what is wrong, by flag', () => {
    expect(() => parse('distribute', '--template', 'a.md')).toThrow(/--project: give target projects/);
    expect(() => parse('distribute', '--dir', 'x')).toThrow(/--template: give exactly one of template or template_path/);
    expect(() => parse('distribute', '--template', 'a.md', '--dir', 'x', '--keyword', 'novalue')).toThrow(UsageError);
    expect(() => parse('distribute', '--bogus')).toThrow(/Unknown option '--bogus'/);
    expect(() => parse('rollback')).toThrow(/one distribution id/);
    expect(() => parse('frobnicate')).toThrow(/unknown command: frobnicate/);
  });

  it('refuses .. and NUL in every path it takes, before resolving them', () => {
    expect(() => parse('distribute', '--template', 'a.md', '--dir', 'projects/../elsewhere')).toThrow(/--dir projects\/\.\.\/elsewhere: '\.\.' is not allowed in paths/);
    expect(() => parse('distribute', '--template', '../secret.md', '--dir', 'x')).toThrow(/--template/);
    expect(() => parse('distribute', '--template', 'a.md', '--discover', '/work/../etc')).toThrow(/'\.\.' is not allowed/);
    expect(() => parse('distribute', '--template', 'a.md', '--dir', 'x', '--projects-root', '..')).toThrow(/--projects-root/);
    expect(parse('distribute', '--template', 'a.md', '--dir', 'x', '--projects-root', 'p', '--templates-root', '/t')).toMatchObject({ roots: { projects: '/work/p', templates: '/t' } });
  });

  it('reads rollback and history', () => {
    expect(parse('rollback', 'dist_20250101_000000_abc123', '--json')).toEqual({ command: 'rollback', distributionId: 'dist_20250101_000000_abc123', roots: {}, json: true });
    expect(parse('history')).toMatchObject({ command: 'history', distributionId: null, filter: { limit: 50 } });
    expect(parse()).toEqual({ command: 'help' });
  });
});
