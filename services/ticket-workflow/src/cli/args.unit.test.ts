import { describe, expect, it } from 'vitest';
import { distributeCommand, historyCommand, rollbackCommand, UsageError, type DistributeOptions } from './args';

const files: Record<string, string> = { '/work/kw.txt': '# shared\nowner = ops\n' };
const ctx = { cwd: '/work', readFileSync: (p: string) => files[p] ?? '' };
const distribute = (o: DistributeOptions) => distributeCommand(o, ctx);

describe('tickets command arguments', () => {
  it('reads a distribution with relative paths, keywords and flags', () => {
    const cmd = distribute({ template: 't/audit.md', discover: 'projects', dir: ['/abs/web'], keywordsFile: 'kw.txt', keyword: ['team=a=b'], dryRun: true, plan: 'architect, developer' });
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
    expect(() => distribute({ template: 'a.md' })).toThrow(/--project: give target projects/);
    expect(() => distribute({ dir: ['x'] })).toThrow(/--template: give exactly one of template or template_path/);
    expect(() => distribute({ template: 'a.md', dir: ['x'], keyword: ['novalue'] })).toThrow(UsageError);
    expect(() => rollbackCommand('not an id', {}, ctx)).toThrow(/not a distribution id/);
    expect(() => historyCommand('../etc', {})).toThrow(/not a distribution id/);
  });

  it('refuses .. and NUL in every path it takes, before resolving them', () => {
    expect(() => distribute({ template: 'a.md', dir: ['projects/../elsewhere'] })).toThrow(/--dir projects\/\.\.\/elsewhere: '\.\.' is not allowed in paths/);
    expect(() => distribute({ template: '../secret.md', dir: ['x'] })).toThrow(/--template/);
    expect(() => distribute({ template: 'a.md', discover: '/work/../etc' })).toThrow(/'\.\.' is not allowed/);
    expect(() => distribute({ template: 'a.md', dir: ['x'], projectsRoot: '..' })).toThrow(/--projects-root/);
    expect(() => distribute({ template: 'a.md', dir: ['x\0y'] })).toThrow(UsageError);
    expect(() => rollbackCommand('dist_20250101_000000_abc123', { projectsRoot: 'a/../b' }, ctx)).toThrow(/--projects-root/);
    expect(distribute({ template: 'a.md', dir: ['x'], projectsRoot: 'p', templatesRoot: '/t' })).toMatchObject({ roots: { projects: '/work/p', templates: '/t' } });
  });

  it('reads rollback and history', () => {
    expect(rollbackCommand('dist_20250101_000000_abc123', { json: true }, ctx)).toEqual({ command: 'rollback', distributionId: 'dist_20250101_000000_abc123', roots: {}, json: true });
    expect(historyCommand(undefined, {})).toMatchObject({ command: 'history', distributionId: null, filter: { limit: 50 } });
    expect(historyCommand(undefined, { template: 'audit' })).toMatchObject({ filter: { template_name: 'audit' } });
  });
});
