/**
 * Subscriptions (provider × competition level), read from the projection and changed
 * through fairness (their owner). ETag = the subscription stream's version; If-Match
 * becomes expected_version, so a concurrent change (billing pausing it for funds) is 412.
 */
import { z } from 'zod';
import { Cap as ContractCap, ServiceArea, SubscriptionStatus, type CommandReply } from '@fairlead/contracts';
import { actorOf, NotFoundError, principalOf, type HttpApp } from '@fairlead/platform';
import { findSubscription, listSubscriptions, type SubscriptionRow } from '../../projections/subscriptions/subscriptions.queries';
import type { ApiContext } from '../context';
import { requireIfMatch, setEtag } from '../etag';
import { COMMAND_PROBLEMS, Cursor, Id, IfMatchHeaders, Limit, NextCursor, problemResponses } from '../schemas';

const P = '/api/v1/admin/subscriptions';
const tags = ['subscriptions'];
const Params = z.object({ id: Id });
const Cap = ContractCap.nullable();

const Subscription = z.object({
  subscription_id: z.string(),
  provider_id: z.string(),
  niche_id: z.string(),
  level_id: z.string(),
  service_area: z.object({ postal_codes: z.array(z.string()), states: z.array(z.string()) }),
  daily_cap: z.number().int().nullable(),
  monthly_cap: z.number().int().nullable(),
  status: SubscriptionStatus,
  version: z.number().int().describe('the ETag'),
});
type SubscriptionOut = z.infer<typeof Subscription>;

const fromRow = (s: SubscriptionRow): SubscriptionOut => ({
  subscription_id: s.subscription_id,
  provider_id: s.provider_id,
  niche_id: s.niche_id,
  level_id: s.level_id,
  service_area: { postal_codes: s.postal_codes, states: s.states },
  daily_cap: s.daily_cap,
  monthly_cap: s.monthly_cap,
  status: s.status,
  version: s.version,
});
const fromReply = (s: CommandReply<'fairness', 'get_subscription'>): SubscriptionOut => ({ ...s });

export function registerSubscriptionRoutes(app: HttpApp, ctx: ApiContext): void {
  app.get(
    P,
    {
      config: { access: 'read' },
      schema: {
        tags,
        summary: 'Subscriptions, filtered by provider, niche, level and status',
        querystring: z.object({ provider_id: Id.optional(), niche_id: Id.optional(), level_id: Id.optional(), status: SubscriptionStatus.optional(), cursor: Cursor, limit: Limit() }),
        response: { 200: z.object({ items: z.array(Subscription), next_cursor: NextCursor }), ...problemResponses() },
      },
    },
    async (request) => {
      const result = await listSubscriptions(ctx.pool, request.query);
      return { items: result.items.map(fromRow), next_cursor: result.next_cursor };
    },
  );

  app.get(`${P}/:id`, { config: { access: 'read' }, schema: { tags, summary: 'One subscription (ETag: its version)', params: Params, response: { 200: Subscription, ...problemResponses(404) } } }, async (request, reply) => {
    const subscription = await findSubscription(ctx.pool, request.params.id);
    if (!subscription) throw new NotFoundError(`Subscription ${request.params.id} is unknown.`, { code: 'SUBSCRIPTION_NOT_FOUND' });
    setEtag(reply, subscription.version);
    return fromRow(subscription);
  });

  app.post(
    P,
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: 'Subscribe a provider to a competition level',
        body: z.object({
          subscription_id: Id.optional(),
          provider_id: Id,
          niche_id: Id,
          level_id: Id,
          service_area: ServiceArea,
          daily_cap: Cap.default(null),
          monthly_cap: Cap.default(null),
        }),
        response: { 201: Subscription, ...problemResponses(...COMMAND_PROBLEMS) },
      },
    },
    async (request, reply) => {
      const subscription = await ctx.bus.send('fairness', 'create_subscription', { ...request.body, actor: actorOf(principalOf(request)) });
      setEtag(reply, subscription.version);
      return reply.code(201).send(fromReply(subscription));
    },
  );

  app.patch(
    `${P}/:id`,
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: "Change a subscription's service area or caps (If-Match required; a cap of null removes it)",
        params: Params,
        headers: IfMatchHeaders,
        body: z.object({ service_area: ServiceArea.optional(), daily_cap: Cap.optional(), monthly_cap: Cap.optional() }),
        response: { 200: Subscription, ...problemResponses(412, 428, ...COMMAND_PROBLEMS) },
      },
    },
    async (request, reply) => {
      const expected = requireIfMatch(request.headers['if-match']);
      const subscription = await ctx.bus.send('fairness', 'update_subscription', {
        subscription_id: request.params.id,
        ...request.body,
        expected_version: expected,
        actor: actorOf(principalOf(request)),
      });
      setEtag(reply, subscription.version);
      return fromReply(subscription);
    },
  );

  app.put(
    `${P}/:id/status`,
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: 'Pause, resume or cancel a subscription (If-Match required)',
        params: Params,
        headers: IfMatchHeaders,
        body: z.object({ status: SubscriptionStatus, reason: z.string().trim().min(1).max(500).default('operator') }),
        response: { 200: Subscription, ...problemResponses(412, 428, ...COMMAND_PROBLEMS) },
      },
    },
    async (request, reply) => {
      const expected = requireIfMatch(request.headers['if-match']);
      const subscription = await ctx.bus.send('fairness', 'set_subscription_status', {
        subscription_id: request.params.id,
        ...request.body,
        expected_version: expected,
        actor: actorOf(principalOf(request)),
      });
      setEtag(reply, subscription.version);
      return fromReply(subscription);
    },
  );
}
