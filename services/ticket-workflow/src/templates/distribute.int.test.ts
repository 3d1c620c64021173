import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { distributeTemplate, type DistributeRequest } from './distribute';
import { ConfinedRoot } from './confined-root';
import { readDistributionLog } from './log-file';
import { InMemoryDistributionTracker } from './memory-tracker';
import type { EngineDependencies } from './ports';
import { rollbackDistribution } from './rollback';
import { targetsFromDirectories, targetsFromDiscovery } from './targets';

// Real files in a fresh temporary directory per test; only the clock and ids are fixed.
let base: string;
let root: ConfinedRoot;
let ids: number;
const template = { name: 'security-audit', content: '# Security audit of {{project_name}}\n\nIssue {{ticket_number}}, {{date}}, owner {{owner}}.\n' };
const deps = (tracker = new InMemoryDistributionTracker()): EngineDependencies => ({
  files: root,
  clock: () => new Date('2025-03-04T05:06:07Z'),
  newDistributionId: () => `dist_${++ids}`,
  tracker,
});
const request = async (dirs: string[], extra: Partial<DistributeRequest> = {}): Promise<DistributeRequest> => ({
  template,
  targets: await targetsFromDirectories(root, dirs.map((d) => join(base, d))),
  keywords: { owner: 'platform-team' },
  baseDir: base,
  ...extra,
});

async function project(name: string, files: Record<string, string> = {}): Promise<string> {
  const dir = join(base, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'README.md'), `# ${name}\n`);
  for (const [rel, content] of Object.entries(files)) {
    await mkdir(join(dir, rel, '..'), { recursive: true });
    await writeFile(join(dir, rel), content);
  }
  return dir;
}

const listPhase = async (name: string) => (await readdir(join(base, name, 'issues', 'phase-1'))).sort();

beforeEach(async () => {
  base = await mkdtemp(join(tmpdir(), 'tw-distribute-'));
  root = await ConfinedRoot.open('projects', base);
  ids = 0;
});
afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

describe('template distribution', () => {
  it('numbers after the highest existing issue, tolerating gaps, and creates the issue structure', async () => {
    await project('web', { 'issues/phase-1/001-setup.md': 'x', 'issues/phase-1/002-ci.md': 'x', 'issues/phase-1/005-cache.md': 'x', 'issues/phase-1/notes.txt': 'x', 'issues/phase-1/progress.md': 'ours', 'issues/completed/003-done.md': 'x' });
    await project('api');
    const report = await distributeTemplate(await request(['web', 'api']), deps());

    expect(report.summary).toEqual({ succeeded: 2, failed: 0, skipped: 0, total: 2 });
    expect(report.results.map((r) => r.file)).toEqual(['issues/phase-1/006-security-audit.md', 'issues/phase-1/001-security-audit.md']);
    expect(await readFile(join(base, 'web/issues/phase-1/006-security-audit.md'), 'utf8')).toBe('# Security audit of web\n\nIssue 006, 2025-03-04, owner platform-team.\n');
    // A project without issues gets the whole structure, progress.md included.
    expect(await listPhase('api')).toEqual(['001-security-audit.md', 'progress.md']);
    expect(await readdir(join(base, 'api/issues/completed'))).toEqual([]);
    expect(await readFile(join(base, 'api/issues/phase-1/progress.md'), 'utf8')).toContain('Phase 1 issues for the api project');
    // An existing progress.md is left alone.
    expect(await readFile(join(base, 'web/issues/phase-1/progress.md'), 'utf8')).toBe('ours');
    expect(report.lines).toContain('✓ web: issues/phase-1/006-security-audit.md');
    expect(report.lines.at(-1)).toBe('Distribution complete: 2 success, 0 errors, 0 skipped (of 2)');
  });

  it('fails a missing or unwritable project with its reason while the others go on', async () => {
    await project('good-1');
    await project('good-2');
    // Tests run as root, so permissions cannot make a folder unwritable: a file named
    // `issues` where the issue folder must go does, and so does a path under a file.
    await project('blocked', { issues: 'I am a file' });
    await writeFile(join(base, 'plain-file'), 'x');
    const lines: string[] = [];
    const report = await distributeTemplate(await request(['good-1', 'missing', 'blocked', 'plain-file/below', 'good-2']), { ...deps(), onProgress: (l) => lines.push(l) });

    expect(report.results.map((r) => r.status)).toEqual(['success', 'failed', 'failed', 'failed', 'success']);
    expect(report.results[1]?.reason).toBe(`directory does not exist: ${join(base, 'missing')}`);
    expect(report.results[2]?.reason).toMatch(/^cannot create issues\/phase-1: not a directory \(a file is in the way\)|a file is in the way/);
    expect(report.results[3]?.reason).toBe(`directory does not exist: ${join(base, 'plain-file/below')}`);
    expect(lines.filter((l) => l.startsWith('✗ '))).toEqual([
      `✗ missing: directory does not exist: ${join(base, 'missing')}`,
      expect.stringMatching(/^✗ blocked: /),
      `✗ below: directory does not exist: ${join(base, 'plain-file/below')}`,
    ]);
    expect(report.summary).toEqual({ succeeded: 2, failed: 3, skipped: 0, total: 5 });
    expect(await listPhase('good-1')).toEqual(['001-security-audit.md', 'progress.md']);
    expect(await listPhase('good-2')).toEqual(['001-security-audit.md', 'progress.md']);
    expect(await readFile(join(base, 'blocked/issues'), 'utf8')).toBe('I am a file');

    const log = await readDistributionLog(base);
    expect(log.map((l) => [l.distributionId, l.project, l.issueFile, l.template, l.status])).toEqual([
      ['dist_1', 'good-1', '001-security-audit.md', 'security-audit', 'success'],
      ['dist_1', 'missing', '-', 'security-audit', 'failed'],
      ['dist_1', 'blocked', '-', 'security-audit', 'failed'],
      ['dist_1', 'below', '-', 'security-audit', 'failed'],
      ['dist_1', 'good-2', '001-security-audit.md', 'security-audit', 'success'],
    ]);
    expect(log[0]?.timestamp).toBe('2025-03-04 05:06:07');
  });

  it('previews without writing anything', async () => {
    await project('web', { 'issues/phase-1/004-x.md': 'x' });
    await project('api', { '.ticket_keywords': 'owner = api-team\n' });
    await project('blocked', { issues: 'file' });
    const tracker = new InMemoryDistributionTracker();
    const report = await distributeTemplate(await request(['web', 'api', 'blocked'], { dryRun: true }), deps(tracker));

    expect(report.dryRun).toBe(true);
    expect(report.results.map((r) => [r.status, r.file])).toEqual([
      ['would_write', 'issues/phase-1/005-security-audit.md'],
      ['would_write', 'issues/phase-1/001-security-audit.md'],
      ['failed', undefined],
    ]);
    expect(report.results[1]?.content).toBe('# Security audit of api\n\nIssue 001, 2025-03-04, owner api-team.\n');
    expect(report.lines).toContain('✓ web: would write issues/phase-1/005-security-audit.md');
    expect(await listPhase('web')).toEqual(['004-x.md']);
    expect(await readdir(join(base, 'api'))).toEqual(['.ticket_keywords', 'README.md']);
    expect(await readDistributionLog(base)).toEqual([]);
    expect(await tracker.load(report.distributionId)).toBeUndefined();
  });

  it('reports unknown keywords and writes nothing for that project', async () => {
    await project('web');
    await project('api', { '.ticket_keywords': 'owner = api-team\n' });
    const report = await distributeTemplate(await request(['web', 'api'], { keywords: {} }), deps());
    expect(report.results.map((r) => r.status)).toEqual(['failed', 'success']);
    expect(report.results[0]?.reason).toBe('unknown keywords: {{owner}}');
    expect(await readdir(join(base, 'web'))).toEqual(['README.md']);
  });

  it('skips projects that already received the template unless forced', async () => {
    await project('web');
    await project('api');
    const tracker = new InMemoryDistributionTracker();
    const first = await distributeTemplate(await request(['web']), deps(tracker));
    const again = await distributeTemplate(await request(['web', 'api']), deps(tracker));

    expect(again.results.map((r) => r.status)).toEqual(['skipped', 'success']);
    expect(again.results[0]?.reason).toBe(`already distributed in ${first.distributionId} (force to send it again)`);
    expect(again.lines).toContain(`✓ web: skipped, already distributed in ${first.distributionId} (force to send it again)`);
    expect(await listPhase('web')).toEqual(['001-security-audit.md', 'progress.md']);

    const forced = await distributeTemplate(await request(['web'], { force: true }), deps(tracker));
    expect(forced.results[0]?.file).toBe('issues/phase-1/002-security-audit.md');
  });

  it('never overwrites a file: an existing target name takes the next number', async () => {
    const dir = await project('web');
    await writeFile(join(dir, 'taken.md'), 'mine');
    expect(await root.writeNewFile(join(dir, 'taken.md'), 'theirs', 'file')).toBe('exists');
    expect(await readFile(join(dir, 'taken.md'), 'utf8')).toBe('mine');

    // Two distributions of the same template racing for the same project's next number.
    const requests = [await request(['web'], { force: true }), await request(['web'], { force: true })];
    const results = await Promise.all([
      distributeTemplate(requests[0]!, deps()),
      distributeTemplate(requests[1]!, deps()),
    ]);
    expect(results.map((r) => r.results[0]?.status)).toEqual(['success', 'success']);
    expect(results.map((r) => r.results[0]?.file).sort()).toEqual(['issues/phase-1/001-security-audit.md', 'issues/phase-1/002-security-audit.md']);
    // No temp file is left behind.
    expect(await listPhase('web')).toEqual(['001-security-audit.md', '002-security-audit.md', 'progress.md']);
  });

  it('rolls back a distribution, keeping and reporting the file edited since', async () => {
    await project('web');
    await project('api');
    await project('docs');
    const tracker = new InMemoryDistributionTracker();
    const report = await distributeTemplate(await request(['web', 'api', 'docs']), deps(tracker));
    const edited = join(base, 'api/issues/phase-1/001-security-audit.md');
    await writeFile(edited, '# Security audit of api\n\nIn progress: we started on this.\n');

    const rollback = await rollbackDistribution(report.distributionId, { files: root, clock: () => new Date('2025-03-05T00:00:00Z'), tracker });
    expect(rollback.removed.map((r) => r.project)).toEqual(['web', 'docs']);
    expect(rollback.kept).toEqual([{ project: 'api', path: edited, reason: 'edited since it was distributed' }]);
    // What the distribution created around the file goes with it; the edited project keeps everything.
    expect(await readdir(join(base, 'web'))).toEqual(['README.md']);
    expect(await readdir(join(base, 'docs'))).toEqual(['README.md']);
    expect(rollback.cleanedUp.filter((c) => c.project === 'web').map((c) => c.path.slice(base.length + 1))).toEqual([
      'web/issues/phase-1/progress.md',
      'web/issues/completed',
      'web/issues/phase-1',
      'web/issues',
    ]);
    expect(await listPhase('api')).toEqual(['001-security-audit.md', 'progress.md']);
    expect(await readFile(edited, 'utf8')).toContain('we started on this');
    expect(rollback.lines).toContain(`Kept (edited since it was distributed): api/issues/phase-1/001-security-audit.md`);

    const log = (await readDistributionLog(base)).filter((l) => l.timestamp.startsWith('2025-03-05'));
    expect(log.map((l) => `${l.project}|${l.issueFile}|${l.template}|${l.status}`)).toEqual([
      'web|001-security-audit.md|security-audit|rolled_back',
      'api|001-security-audit.md|security-audit|kept_edited',
      'docs|001-security-audit.md|security-audit|rolled_back',
      'SYSTEM|ROLLBACK|SYSTEM|rollback',
    ]);
    expect((await tracker.load(report.distributionId))?.status).toBe('rolled_back');
    await expect(rollbackDistribution(report.distributionId, { files: root, clock: () => new Date(), tracker })).rejects.toMatchObject({ code: 'DISTRIBUTION_ALREADY_ROLLED_BACK' });
    // Rolled back, the template can go to those projects again without force.
    const again = await distributeTemplate(await request(['web']), deps(tracker));
    expect(again.results[0]).toMatchObject({ status: 'success', file: 'issues/phase-1/001-security-audit.md' });
  });

  it('rolls back only what it created: existing folders, an existing progress.md and files added since stay', async () => {
    await project('web', { 'issues/phase-1/progress.md': 'ours', 'issues/phase-1/003-old.md': 'old' });
    await project('api');
    const tracker = new InMemoryDistributionTracker();
    const report = await distributeTemplate(await request(['web', 'api']), deps(tracker));
    // Someone adds an issue of their own to api's new folder after the distribution.
    await writeFile(join(base, 'api/issues/phase-1/002-mine.md'), 'mine');
    const rollback = await rollbackDistribution(report.distributionId, { files: root, clock: () => new Date(), tracker });
    expect(rollback.removed.map((r) => r.project)).toEqual(['web', 'api']);
    expect(await listPhase('web')).toEqual(['003-old.md', 'progress.md']);
    expect(await readFile(join(base, 'web/issues/phase-1/progress.md'), 'utf8')).toBe('ours');
    // completed/ did not exist before: created by the distribution, empty, gone again.
    expect(await readdir(join(base, 'web/issues'))).toEqual(['phase-1']);
    // api: its own file keeps progress.md and the folder; the empty completed/ it created goes.
    expect(await listPhase('api')).toEqual(['002-mine.md', 'progress.md']);
    expect(await readdir(join(base, 'api/issues'))).toEqual(['phase-1']);
  });

  it('discovers projects under a base directory', async () => {
    await project('web');
    await mkdir(join(base, 'not-a-project'));
    await mkdir(join(base, '.hidden'));
    await mkdir(join(base, 'rusty'));
    await writeFile(join(base, 'rusty', 'Cargo.toml'), '');
    const targets = await targetsFromDiscovery(root, base);
    expect(targets.map((t) => t.project)).toEqual(['rusty', 'web']);
    expect(targets[0]?.target).toBe(join(base, 'rusty'));
  });
});
