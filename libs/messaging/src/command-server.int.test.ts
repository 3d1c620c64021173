/** serveCommands: a service's whole contract served from one handlers object, over real NATS. */
import { testNatsUrl } from '@fairlead/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fairnessCommands, SYSTEM_ACTOR, type CommandReply } from '@fairlead/contracts';
import { serveCommands } from './command-server';
import { RemoteError } from './errors';
import { request, type RequestServer } from './request-reply';
import { messagingFixture, type MessagingFixture } from './test-support';

class SubscriptionMissing extends Error {
  readonly code = 'SUBSCRIPTION_NOT_FOUND';
  readonly status = 404;
}

const subscription = (id: string): CommandReply<'fairness', 'get_subscription'> => ({
  subscription_id: id,
  provider_id: 'p',
  niche_id: 'n',
  level_id: 'l',
  status: 'active',
  daily_cap: null,
  monthly_cap: null,
  service_area: { postal_codes: [], states: ['TX'] },
  version: 0,
});

describe('serveCommands', () => {
  let f: MessagingFixture;
  let server: RequestServer;
  const calls: string[] = [];
  beforeAll(async () => {
    f = await messagingFixture('cmd', testNatsUrl());
    server = serveCommands(f.nc, f.subjects, 'fairness', {
      create_subscription: (r) => (calls.push('create'), subscription(r.subscription_id ?? 'new')),
      update_subscription: (r) => (calls.push('update'), subscription(r.subscription_id)),
      set_subscription_status: (r) => (calls.push('set'), subscription(r.subscription_id)),
      get_subscription: (r) => {
        calls.push('get');
        if (r.subscription_id === 'missing') throw new SubscriptionMissing('no such subscription');
        return subscription(r.subscription_id);
      },
    });
  });
  afterAll(async () => {
    await server.stop();
    await f.dispose();
  });

  it('serves every verb of the contract on its subject, each by its own handler', async () => {
    const got = await request(f.nc, f.subjects.command('fairness', 'get_subscription'), { subscription_id: 's1' }, { responseSchema: fairnessCommands.get_subscription.reply });
    expect(got.subscription_id).toBe('s1');
    const set = await request(f.nc, f.subjects.command('fairness', 'set_subscription_status'), { subscription_id: 's2', status: 'paused', actor: SYSTEM_ACTOR });
    expect(set).toMatchObject({ subscription_id: 's2' });
    expect(calls.slice(-2)).toEqual(['get', 'set']);
  });

  it("answers a request that breaks the verb's schema with INVALID_REQUEST, without calling the handler; a refusal keeps its status", async () => {
    const before = calls.length;
    const error = await request(f.nc, f.subjects.command('fairness', 'update_subscription'), { subscription_id: '', daily_cap: -1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteError);
    expect(error).toMatchObject({ code: 'INVALID_REQUEST', status: 400, kind: 'invalid' });
    expect(calls.length).toBe(before);
    await expect(request(f.nc, f.subjects.command('fairness', 'get_subscription'), { subscription_id: 'missing' })).rejects.toMatchObject({ code: 'SUBSCRIPTION_NOT_FOUND', status: 404 });
  });
});
