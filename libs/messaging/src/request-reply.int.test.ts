import { testNatsUrl } from '@fairlead/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { InvalidResponseError, NoRespondersError, RemoteError, RequestTimeoutError } from './errors';
import { request, serveRequests, type RequestServer } from './request-reply';
import { messagingFixture, type MessagingFixture } from './test-support';

class InsufficientBalance extends Error {
  readonly code = 'INSUFFICIENT_BALANCE';
}

/** Like the platform's error types: a code and the status it is answered with. */
class WalletMissing extends Error {
  readonly code = 'WALLET_MISSING';
  readonly status = 404;
}

const TopUp = z.object({ providerId: z.string().min(1), amountCents: z.number().int().positive() });
const Balance = z.object({ providerId: z.string(), balanceCents: z.number().int() });

describe('request/reply', () => {
  let f: MessagingFixture;
  let server: RequestServer;
  let subject: string;
  beforeAll(async () => {
    f = await messagingFixture('rr', testNatsUrl());
    subject = f.subjects.command('billing', 'topup');
    server = serveRequests(f.nc, subject, {
      requestSchema: TopUp,
      handler: (req) => {
        if (req.providerId === 'broke') throw new InsufficientBalance('balance would go below zero');
        if (req.providerId === 'ghost') throw new WalletMissing('no wallet');
        if (req.providerId === 'unregistered') throw Object.assign(new Error('provider is not registered'), { code: 'PROVIDER_NOT_FOUND' });
        if (req.providerId === 'bug') throw new Error('secret internal detail');
        if (req.providerId === 'liar') return { providerId: 42 };
        return { providerId: req.providerId, balanceCents: 1000 + req.amountCents };
      },
    });
  });
  afterAll(async () => {
    await server.stop();
    await f.dispose();
  });

  it('returns the validated reply value', async () => {
    const reply = await request(f.nc, subject, { providerId: 'p-1', amountCents: 500 }, { responseSchema: Balance });
    expect(reply).toEqual({ providerId: 'p-1', balanceCents: 1500 });
  });

  it('answers an invalid request with INVALID_REQUEST and the zod issues, without calling the handler', async () => {
    const error = await request(f.nc, subject, { providerId: '', amountCents: -1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteError);
    const remote = error as RemoteError;
    expect(remote.code).toBe('INVALID_REQUEST');
    expect(remote.issues?.map((i) => i.path)).toEqual([['providerId'], ['amountCents']]);
  });

  it('answers a request that is not JSON with INVALID_REQUEST', async () => {
    const error = await request(f.nc, subject, new TextEncoder().encode('{oops')).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'RemoteError', code: 'INVALID_REQUEST' });
  });

  it("carries a handler's coded error to the caller as a RemoteError with that code", async () => {
    const error = await request(f.nc, subject, { providerId: 'broke', amountCents: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteError);
    expect(error).toMatchObject({ code: 'INSUFFICIENT_BALANCE', message: 'balance would go below zero' });
  });

  it("carries the refusal's status and kind: the error's own, else the catalogue's for its code, else internal", async () => {
    await expect(request(f.nc, subject, { providerId: 'ghost', amountCents: 1 })).rejects.toMatchObject({ code: 'WALLET_MISSING', status: 404, kind: 'not_found' });
    await expect(request(f.nc, subject, { providerId: 'unregistered', amountCents: 1 })).rejects.toMatchObject({ code: 'PROVIDER_NOT_FOUND', status: 404, kind: 'not_found' });
    await expect(request(f.nc, subject, { providerId: 'broke', amountCents: 1 })).rejects.toMatchObject({ code: 'INSUFFICIENT_BALANCE', status: 500, kind: 'internal' });
    await expect(request(f.nc, subject, { providerId: '', amountCents: 1 })).rejects.toMatchObject({ code: 'INVALID_REQUEST', status: 400, kind: 'invalid' });
    await expect(request(f.nc, subject, { providerId: 'bug', amountCents: 1 })).rejects.toMatchObject({ code: 'INTERNAL_ERROR', status: 500, kind: 'internal' });
  });

  it('a refusal from a responder that sends no status is read by the catalogue; a status out of range is refused as an invalid reply', async () => {
    const old = f.subjects.command('old', 'answer');
    const sub = f.nc.subscribe(old, {
      callback: (_err, msg) => {
        const bad = new TextDecoder().decode(msg.data).includes('bad');
        msg.respond(new TextEncoder().encode(JSON.stringify({ ok: false, error: { code: 'NICHE_VERSION_CONFLICT', message: 'stale', ...(bad ? { status: 200 } : {}) } })));
      },
    });
    await expect(request(f.nc, old, {})).rejects.toMatchObject({ name: 'RemoteError', code: 'NICHE_VERSION_CONFLICT', status: 412, kind: 'precondition_failed' });
    await expect(request(f.nc, old, 'bad')).rejects.toBeInstanceOf(InvalidResponseError);
    sub.unsubscribe();
  });

  it('hides the details of an unexpected handler failure', async () => {
    const error = await request(f.nc, subject, { providerId: 'bug', amountCents: 1 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'INTERNAL_ERROR', message: 'internal error' });
  });

  it('rejects a reply that does not match the expected schema', async () => {
    const error = await request(f.nc, subject, { providerId: 'liar', amountCents: 1 }, { responseSchema: Balance }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidResponseError);
  });

  it('times out when the responder does not answer', async () => {
    const silent = f.subjects.command('silent', 'ignore');
    const sub = f.nc.subscribe(silent, { callback: () => undefined });
    const error = await request(f.nc, silent, {}, { timeoutMs: 200 }).catch((e: unknown) => e);
    sub.unsubscribe();
    expect(error).toBeInstanceOf(RequestTimeoutError);
    expect(error).toMatchObject({ code: 'MESSAGING_REQUEST_TIMEOUT', timeoutMs: 200 });
  });

  it('reports no responders at once when nobody listens', async () => {
    const error = await request(f.nc, f.subjects.command('nobody', 'home'), {}, { timeoutMs: 5_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NoRespondersError);
  });

  it('splits requests across a queue group, each answered once', async () => {
    const split = f.subjects.command('echo', 'who');
    const seen: string[] = [];
    const servers = ['a', 'b'].map((name) =>
      serveRequests(f.nc, split, {
        requestSchema: z.object({ n: z.number() }),
        handler: ({ n }) => {
          seen.push(`${name}:${n}`);
          return name;
        },
      }),
    );
    const replies = await Promise.all(Array.from({ length: 20 }, (_, n) => request(f.nc, split, { n })));
    await Promise.all(servers.map((s) => s.stop()));
    expect(seen).toHaveLength(20);
    expect(new Set(seen.map((s) => s.split(':')[1])).size).toBe(20);
    expect(new Set(replies)).toEqual(new Set(['a', 'b']));
    await expect(request(f.nc, split, { n: 0 })).rejects.toBeInstanceOf(NoRespondersError);
  });
});
