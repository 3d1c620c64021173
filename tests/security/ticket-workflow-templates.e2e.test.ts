/**
 * Template distribution cannot read or write outside its roots — over MCP (official
 * client), REST (admin token) and the `tickets` CLI alike, each a real process. The same
 * attacks on every edge: an absolute path outside, `..`, a symlinked template, a symlinked
 * project folder, a project whose `issues` folder is a symlink, the log's base directory
 * outside, discovery outside, a registered directory outside. Afterwards the outside tree
 * is byte for byte what it was, and no answer carries a secret.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '@fairlead/platform';
import { createTestDatabase, startServiceProcess, type ServiceProcess, type TestDatabase } from '@fairlead/testing';
import { connectAgent, snapshotTree } from './ticket-workflow-support';

const JWT = { JWT_SECRET: randomBytes(32).toString('hex'), JWT_ISSUER: 'fairlead-test', JWT_AUDIENCE: 'fairlead-tw-security' };
const MCP_TOKEN = randomBytes(24).toString('base64url');
const SECRET = `secret-${randomBytes(8).toString('hex')}`;
let db: TestDatabase;
let service: ServiceProcess;
let base: string;
let workspace: string;
let templates: string;
let projects: string;
let outside: string;

beforeAll(async () => {
  db = await createTestDatabase('tw_sec_templates');
  base = await mkdtemp(join(tmpdir(), 'tw-sec-templates-'));
  // The CLI runs from `workspace` (its roots default to it); the service gets `workspace/templates` and `workspace/projects`.
  workspace = join(base, 'workspace');
  templates = join(workspace, 'templates');
  projects = join(workspace, 'projects');
  outside = join(base, 'outside');
  for (const dir of [templates, projects, join(outside, 'victim'), join(outside, 'issues-target')]) await mkdir(dir, { recursive: true });
  await writeFile(join(outside, 'jwt-secret'), `${SECRET}\n`);
  await writeFile(join(outside, 'victim', 'README.md'), 'a project outside the root');
  await writeFile(join(templates, 'audit.md'), '# Audit of {{project_name}}\n');
  await symlink(join(outside, 'jwt-secret'), join(templates, 'innocent.md'));
  for (const name of ['web', 'evil']) {
    await mkdir(join(projects, name));
    await writeFile(join(projects, name, 'README.md'), name);
  }
  // A project whose issues folder leads outside, and a project folder that is itself a link outside.
  await symlink(join(outside, 'issues-target'), join(projects, 'evil', 'issues'));
  await symlink(join(outside, 'victim'), join(projects, 'linked'));
  await writeFile(join(projects, 'web', '.ticket_keywords'), 'owner = web-team\n');
  service = await startServiceProcess({
    service: 'ticket-workflow',
    env: { DATABASE_URL: db.url, FAIRLEAD_DATA_DIR: join(base, 'data'), ...JWT, MCP_TOKEN, TEMPLATES_ROOT: templates, PROJECTS_ROOT: projects },
  });
});
afterAll(async () => {
  await service?.stop();
  await db?.drop();
  if (base) await rm(base, { recursive: true, force: true });
});

/** Each attack as distribute_template arguments (paths as an MCP/REST caller gives them) and the refusal it must get. */
const ATTACKS = (): Array<{ name: string; args: Record<string, unknown> }> => [
  { name: 'template_path absolute, outside', args: { template_path: join(outside, 'jwt-secret'), directories: [join(projects, 'web')], dry_run: true } },
  { name: 'template_path /etc/passwd', args: { template_path: '/etc/passwd', directories: [join(projects, 'web')], dry_run: true } },
  { name: 'template_path with ..', args: { template_path: '../../outside/jwt-secret', directories: [join(projects, 'web')], dry_run: true } },
  { name: 'template_path a symlink leading outside', args: { template_path: 'innocent.md', directories: [join(projects, 'web')], dry_run: true } },
  { name: 'directories with ..', args: { template_name: 'x', template: '# x', directories: [`${projects}/../../outside/victim`] } },
  { name: 'directories absolute, outside', args: { template_name: 'x', template: '# x', directories: [join(outside, 'victim')] } },
  { name: 'directories a symlinked project outside', args: { template_name: 'x', template: '# x', directories: [join(projects, 'linked')] } },
  { name: 'base_dir outside (the log)', args: { template_name: 'x', template: '# x', directories: [join(projects, 'web')], base_dir: outside } },
  { name: 'base_dir with ..', args: { template_name: 'x', template: '# x', directories: [join(projects, 'web')], base_dir: '../..' } },
  { name: 'discover_under outside', args: { template_name: 'x', template: '# x', discover_under: outside } },
  { name: 'discover_under /', args: { template_name: 'x', template: '# x', discover_under: '/' } },
];

async function expectOutsideUntouched(before: Record<string, string>) {
  expect(await snapshotTree(outside)).toEqual(before);
}

describe('over MCP (official client)', () => {
  it('refuses every path that leaves a root, reads nothing outside and writes nothing outside', async () => {
    const agent = await connectAgent(service.port, `Bearer ${MCP_TOKEN}`);
    const before = await snapshotTree(outside);
    try {
      for (const attack of ATTACKS()) {
        const result = await agent.call('distribute_template', attack.args);
        expect(result.isError, `${attack.name}: ${result.content[0]?.text}`).toBe(true);
        expect(result.structuredContent, attack.name).toMatchObject({ error: { code: 'PATH_NOT_ALLOWED' } });
        expect(JSON.stringify(result), attack.name).not.toContain(SECRET);
      }
      const registered = await agent.call('register_project', { project_id: 'outsider', directory: join(outside, 'victim') });
      expect(registered.structuredContent).toMatchObject({ error: { code: 'PATH_NOT_ALLOWED' } });
      // A project whose issues folder leads outside fails alone, with its reason; the others go on.
      const run = await agent.call('distribute_template', { template_name: 'audit', template: '# Audit {{project_name}}', directories: [join(projects, 'evil'), join(projects, 'web')], base_dir: projects });
      const report = run.structuredContent as { results: Array<{ project: string; status: string; reason?: string }> };
      expect(report.results.map((r) => [r.project, r.status])).toEqual([
        ['evil', 'failed'],
        ['web', 'success'],
      ]);
      expect(report.results[0]?.reason).toMatch(/outside the projects root/);
    } finally {
      await agent.close();
    }
    await expectOutsideUntouched(before);
    expect(await readdir(join(outside, 'issues-target'))).toEqual([]);
  });

  it('reads a template inside the templates root, relative to it', async () => {
    const agent = await connectAgent(service.port, `Bearer ${MCP_TOKEN}`);
    try {
      const preview = await agent.call('distribute_template', { template_path: 'audit.md', directories: ['web'], dry_run: true, force: true });
      expect(preview.isError, preview.content[0]?.text).toBeFalsy();
      expect((preview.structuredContent as { results: Array<{ content: string }> }).results[0]?.content).toBe('# Audit of web\n');
    } finally {
      await agent.close();
    }
  });
});

describe('over REST', () => {
  const url = () => `http://127.0.0.1:${service.port}/v1`;
  const bearer = async (roles: Array<'operator' | 'admin'>) =>
    `Bearer ${await mintToken({ secret: JWT.JWT_SECRET, issuer: JWT.JWT_ISSUER, audience: JWT.JWT_AUDIENCE, sub: 'mallory', roles, mfa: true, ttlSec: 600 })}`;

  it('keeps distribution to admins: an operator token cannot read or write server files (403)', async () => {
    const res = await fetch(`${url()}/distributions`, {
      method: 'POST',
      headers: { authorization: await bearer(['operator']), 'content-type': 'application/json' },
      body: JSON.stringify(ATTACKS()[0]!.args),
    });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ code: 'ROLE_INSUFFICIENT' });
  });

  it('refuses every path that leaves a root for an admin too (403 PATH_NOT_ALLOWED), touching nothing outside', async () => {
    const before = await snapshotTree(outside);
    const headers = { authorization: await bearer(['admin']), 'content-type': 'application/json' };
    for (const attack of ATTACKS()) {
      const res = await fetch(`${url()}/distributions`, { method: 'POST', headers, body: JSON.stringify(attack.args) });
      const body = await res.text();
      expect(res.status, `${attack.name}: ${body}`).toBe(403);
      expect(res.headers.get('content-type')).toContain('application/problem+json');
      expect(JSON.parse(body), attack.name).toMatchObject({ code: 'PATH_NOT_ALLOWED' });
      expect(body).not.toContain(SECRET);
    }
    const project = await fetch(`${url()}/projects`, { method: 'POST', headers, body: JSON.stringify({ project_id: 'outsider-rest', directory: join(outside, 'victim') }) });
    expect(project.status).toBe(403);
    await expectOutsideUntouched(before);
  }, 300_000);
});

describe('the tickets CLI (roots default to the working directory)', () => {
  const entry = resolve(import.meta.dirname, '../../cli/bin/fairlead.js');
  const tickets = (...args: string[]): Promise<{ code: number | null; out: string; err: string }> =>
    new Promise((done) => {
      const child = spawn(process.execPath, [entry, 'tickets', ...args], {
        env: { ...process.env, DATABASE_URL: db.url, INIT_CWD: workspace, TEMPLATES_ROOT: '', PROJECTS_ROOT: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.on('exit', (code) => done({ code, out, err }));
    });

  it('refuses .., absolute paths outside and symlinks leading outside; nothing outside is read or written', async () => {
    const before = await snapshotTree(outside);
    const usage = await tickets('distribute', '--template', 'templates/audit.md', '--dir', 'projects/../../outside/victim');
    expect(usage.code).toBe(2);
    expect(usage.err).toContain("'..' is not allowed in paths");
    const traversal = await tickets('distribute', '--template', '../outside/jwt-secret', '--dir', 'projects/web', '--dry-run');
    expect(traversal.code).toBe(2);
    for (const args of [
      ['--template', join(outside, 'jwt-secret'), '--dir', 'projects/web', '--dry-run'],
      ['--template', 'templates/innocent.md', '--dir', 'projects/web', '--dry-run'],
      ['--template', 'templates/audit.md', '--dir', join(outside, 'victim')],
      ['--template', 'templates/audit.md', '--dir', 'projects/linked'],
      ['--template', 'templates/audit.md', '--discover', outside],
      ['--template', 'templates/audit.md', '--dir', 'projects/web', '--base-dir', outside],
    ]) {
      const run = await tickets('distribute', ...args);
      expect(run.code, `${args.join(' ')}: ${run.out}${run.err}`).toBe(1);
      expect(run.err, args.join(' ')).toMatch(/^fairlead: PATH_NOT_ALLOWED: /);
      expect(run.out + run.err).not.toContain(SECRET);
    }
    // A root given explicitly confines as well: the workspace is no longer inside it.
    const narrowed = await tickets('distribute', '--template', 'templates/audit.md', '--dir', 'projects/web', '--projects-root', join(workspace, 'templates'));
    expect(narrowed.code).toBe(1);
    expect(narrowed.err).toMatch(/^fairlead: PATH_NOT_ALLOWED: directory .* is outside the projects root/);
    // The symlinked issues folder: that project fails, nothing lands outside.
    const evil = await tickets('distribute', '--template', 'templates/audit.md', '--dir', 'projects/evil', '--name', 'cli-audit');
    expect(evil.code).toBe(1);
    expect(evil.out).toMatch(/✗ evil: .*outside the projects root/);
    await expectOutsideUntouched(before);
  }, 300_000);
});
