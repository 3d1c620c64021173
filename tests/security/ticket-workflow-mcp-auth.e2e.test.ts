/**
 * /mcp of ticket-workflow, attacked from the outside while the service runs as its own
 * process: no credential, a wrong one, an expired or forged operator token, a role too
 * weak for a tool, a foreign Host (DNS rebinding) and a foreign Origin. And the start-up
 * rules: production refuses to start without a configured MCP credential; a development
 * start generates its token (0600) under the data directory.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken, type Role } from '@fairlead/platform';
import { createTestDatabase, startServiceProcess, type ServiceProcess, type TestDatabase } from '@fairlead/testing';
import { connectAgent, initializeBody, rawRequest } from './ticket-workflow-support';

const JWT = { JWT_SECRET: randomBytes(32).toString('hex'), JWT_ISSUER: 'fairlead-test', JWT_AUDIENCE: 'fairlead-tw-security' };
const MCP_TOKEN = randomBytes(24).toString('base64url');
let db: TestDatabase;
let service: ServiceProcess;
let dataDir: string;

beforeAll(async () => {
  db = await createTestDatabase('tw_sec_mcp_auth');
  dataDir = await mkdtemp(join(tmpdir(), 'tw-sec-mcp-'));
  service = await startServiceProcess({ service: 'ticket-workflow', env: { DATABASE_URL: db.url, FAIRLEAD_DATA_DIR: dataDir, ...JWT, MCP_TOKEN } });
});
afterAll(async () => {
  await service?.stop();
  await db?.drop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

const jwt = (roles: Role[], options: { mfa?: boolean; ttlSec?: number; secret?: string } = {}) =>
  mintToken({ secret: options.secret ?? JWT.JWT_SECRET, issuer: JWT.JWT_ISSUER, audience: JWT.JWT_AUDIENCE, sub: 'mallory', roles, mfa: options.mfa ?? true, ttlSec: options.ttlSec ?? 600 });

const post = (headers: Record<string, string>) =>
  rawRequest({
    port: service.port,
    method: 'POST',
    path: '/mcp',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', host: `127.0.0.1:${service.port}`, ...headers },
    body: initializeBody,
  });

describe('/mcp credentials', () => {
  it('refuses a request without a credential, with a wrong token, and with a bad operator token (401, no tool runs)', async () => {
    const cases: Array<[Record<string, string>, string]> = [
      [{}, 'MCP_TOKEN_MISSING'],
      // The last character changed (to one it is not: a random token may end in any of them).
      [{ authorization: `Bearer ${MCP_TOKEN.slice(0, -1)}${MCP_TOKEN.endsWith('x') ? 'y' : 'x'}` }, 'MCP_TOKEN_INVALID'],
      [{ authorization: `Basic ${Buffer.from(`x:${MCP_TOKEN}`).toString('base64')}` }, 'MCP_TOKEN_INVALID'],
      [{ authorization: `Bearer ${await jwt(['admin'], { secret: 'a-forged-secret-that-is-long-enough-for-hs256' })}` }, 'TOKEN_INVALID'],
      [{ authorization: `Bearer ${await jwt(['admin'], { ttlSec: -120 })}` }, 'TOKEN_EXPIRED'],
    ];
    for (const [headers, code] of cases) {
      const res = await post(headers);
      expect(res.status, `${code}: ${res.body}`).toBe(401);
      expect(JSON.parse(res.body)).toMatchObject({ status: 401, code });
      expect(res.body).not.toContain(MCP_TOKEN);
    }
  });

  it('refuses the official MCP client without the token or with a wrong one', async () => {
    await expect(connectAgent(service.port, undefined)).rejects.toThrow(/401|MCP_TOKEN_MISSING/);
    await expect(connectAgent(service.port, `Bearer ${randomBytes(24).toString('base64url')}`)).rejects.toThrow(/401|MCP_TOKEN_INVALID/);
  });

  it('lets an agent with the token use every tool, and an operator JWT only the tools its role allows', async () => {
    const agent = await connectAgent(service.port, `Bearer ${MCP_TOKEN}`);
    try {
      const created = await agent.call('create_ticket', { project_id: 'sec/mcp', title: 'T', description: 'D', execution_plan: ['developer'] });
      expect(created.isError, created.content[0]?.text).toBeFalsy();
    } finally {
      await agent.close();
    }
    const viewer = await connectAgent(service.port, `Bearer ${await jwt(['viewer'], { mfa: false })}`);
    try {
      expect((await viewer.call('list_tickets', { project_id: 'sec/mcp' })).isError).toBeFalsy();
      const write = await viewer.call('create_ticket', { project_id: 'sec/mcp', title: 'T', description: 'D', execution_plan: ['developer'] });
      expect(write).toMatchObject({ isError: true, structuredContent: { error: { code: 'ROLE_INSUFFICIENT' } } });
    } finally {
      await viewer.close();
    }
    const operatorWithoutMfa = await connectAgent(service.port, `Bearer ${await jwt(['operator'], { mfa: false })}`);
    try {
      const write = await operatorWithoutMfa.call('create_ticket', { project_id: 'sec/mcp', title: 'T', description: 'D', execution_plan: ['developer'] });
      expect(write).toMatchObject({ isError: true, structuredContent: { error: { code: 'MFA_REQUIRED' } } });
    } finally {
      await operatorWithoutMfa.close();
    }
    const operator = await connectAgent(service.port, `Bearer ${await jwt(['operator'])}`);
    try {
      // Distributing templates touches the server's files: admin only.
      const distribute = await operator.call('distribute_template', { template_name: 'x', template: '# x', directories: ['p'], dry_run: true });
      expect(distribute).toMatchObject({ isError: true, structuredContent: { error: { code: 'ROLE_INSUFFICIENT' } } });
    } finally {
      await operator.close();
    }
  });
});

describe('/mcp Host and Origin (DNS rebinding)', () => {
  it('refuses a foreign Host header even with the right token (403), and answers the loopback names', async () => {
    const authorization = `Bearer ${MCP_TOKEN}`;
    for (const host of ['evil.example', `evil.example:${service.port}`, 'localhost.evil.example', '127.0.0.1.nip.io', 'localhost@evil.example']) {
      const res = await post({ authorization, host });
      expect(res.status, `Host: ${host} → ${res.body}`).toBe(403);
      expect(JSON.parse(res.body)).toMatchObject({ code: 'HOST_NOT_ALLOWED' });
      expect(res.body).not.toContain('evil');
    }
    for (const host of [`127.0.0.1:${service.port}`, `localhost:${service.port}`, 'LOCALHOST']) {
      expect((await post({ authorization, host })).status, host).toBe(200);
    }
  });

  it('refuses a browser request from a foreign Origin (403), and takes one from a loopback page', async () => {
    const authorization = `Bearer ${MCP_TOKEN}`;
    for (const origin of ['http://evil.example', 'null', `http://evil.example:${service.port}`, 'file://']) {
      const res = await post({ authorization, origin });
      expect(res.status, `Origin: ${origin}`).toBe(403);
      expect(JSON.parse(res.body)).toMatchObject({ code: 'ORIGIN_NOT_ALLOWED' });
    }
    expect((await post({ authorization, origin: `http://localhost:${service.port}` })).status).toBe(200);
  });
});

describe('start-up', () => {
  it('refuses a production start without a configured MCP credential, saying what to set', async () => {
    const attempt = startServiceProcess({
      service: 'ticket-workflow',
      env: { DATABASE_URL: db.url, FAIRLEAD_DATA_DIR: dataDir, NODE_ENV: 'production', ...JWT, MCP_TOKEN: '' },
      readyTimeoutMs: 60_000,
    });
    await expect(attempt).rejects.toThrow(/exited with 2[\s\S]*NODE_ENV: in production, \/mcp needs a configured credential: set MCP_TOKEN or MCP_TOKEN_FILE/);
  });

  it('generates a local token (0600) under the data directory outside production, and /mcp takes exactly it', async () => {
    const local = await mkdtemp(join(tmpdir(), 'tw-sec-local-'));
    const dev = await startServiceProcess({ service: 'ticket-workflow', env: { DATABASE_URL: db.url, FAIRLEAD_DATA_DIR: local, NODE_ENV: 'development', ...JWT, MCP_TOKEN: '' } });
    try {
      const file = join(local, 'auth', 'mcp-token');
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      const token = (await readFile(file, 'utf8')).trim();
      expect(token.length).toBeGreaterThanOrEqual(32);
      expect(dev.output()).toContain(file);
      expect(dev.output()).not.toContain(token);
      const agent = await connectAgent(dev.port, `Bearer ${token}`);
      expect((await agent.call('list_projects', {})).isError).toBeFalsy();
      await agent.close();
      await expect(connectAgent(dev.port, undefined)).rejects.toThrow(/401|MCP_TOKEN_MISSING/);
    } finally {
      await dev.stop();
      await rm(local, { recursive: true, force: true });
    }
  });
});
