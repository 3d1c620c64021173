/**
 * TLS to NATS (NATS_TLS_CA_FILE, tls:// URLs), tested once with a certificate this test
 * makes: a nats-server with the test identities and a TLS block serves a client that
 * trusts the certificate and has an identity; a client that does not trust it, or has
 * no identity, does not get in.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { jetstreamManager } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { z } from 'zod';
import { ensureBusCredentials, freePort, startNatsServer, writeNatsServerConfig, type RunningNats } from '@fairlead/local-servers';
import { connectNats, drainAndClose, request, serveRequests } from '@fairlead/messaging';
import { testSeed } from '@fairlead/testing';

let dir: string;
let server: RunningNats;
let certFile: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fairlead-nats-tls-'));
  certFile = join(dir, 'server.pem');
  const keyFile = join(dir, 'server-key.pem');
  // A self-signed certificate for 127.0.0.1; fixed arguments, no shell.
  await promisify(execFile)('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1',
    '-keyout', keyFile, '-out', certFile,
    '-subj', '/CN=fairlead-test-nats',
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
  ]);
  const bus = await ensureBusCredentials(inject('natsCredentialsDir'));
  const config = await writeNatsServerConfig(join(dir, 'nats-tls.conf'), bus, { namespace: '*', tls: { certFile, keyFile } });
  server = await startNatsServer({ port: await freePort(), storeDir: join(dir, 'store'), extraArgs: ['-c', config] });
}, 120_000);

afterAll(async () => {
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('TLS to NATS', () => {
  it('serves an identity that trusts the certificate (NATS_TLS_CA_FILE), on a tls:// URL', async () => {
    const tlsUrl = server.url.replace('nats://', 'tls://');
    const responder = await connectNats({ servers: tlsUrl, name: 'tls-billing', credentials: { nkeySeed: testSeed('billing'), tlsCaFile: certFile } });
    const caller = await connectNats({ servers: tlsUrl, name: 'tls-operator', credentials: { nkeySeed: testSeed('operator-api'), tlsCaFile: certFile } });
    const admin = await connectNats({ servers: tlsUrl, name: 'tls-admin', credentials: { nkeySeed: testSeed('admin'), tlsCaFile: certFile } });
    try {
      expect(caller.info?.tls_required).toBe(true);
      const served = serveRequests(responder, 'fairlead.cmd.billing.get_provider', { requestSchema: z.object({ provider_id: z.string() }), handler: (r) => ({ id: r.provider_id }) });
      await responder.flush();
      await expect(request(caller, 'fairlead.cmd.billing.get_provider', { provider_id: 'p1' })).resolves.toEqual({ id: 'p1' });
      expect((await (await jetstreamManager(admin)).getAccountInfo()).limits).toBeDefined();
      await served.stop();
    } finally {
      await Promise.all([drainAndClose(responder), drainAndClose(caller), drainAndClose(admin)]);
    }
  });

  it('refuses a client that does not trust the certificate', async () => {
    await expect(connectNats({ servers: server.url, name: 'tls-untrusting', credentials: { nkeySeed: testSeed('admin'), tls: true }, waitOnFirstConnect: false, timeoutMs: 5_000 })).rejects.toThrow(/self-signed certificate/);
  });

  it('refuses a client that trusts the certificate but has no identity', async () => {
    await expect(connectNats({ servers: server.url, name: 'tls-anonymous', credentials: { tlsCaFile: certFile }, waitOnFirstConnect: false, timeoutMs: 5_000 })).rejects.toThrow(/Authorization Violation/i);
  });
});
