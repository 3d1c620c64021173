/**
 * Providers, read from the projection and changed through billing (the owner of provider
 * and wallet streams). ETag = the provider stream's version. Billing's update_provider
 * takes no expected_version, so If-Match is checked against billing's own current
 * version right before the update (a narrow window remains; see the report).
 */
import { z } from 'zod';
import type { CommandReply } from '@fairlead/contracts';
import { actorOf, NotFoundError, principalOf, type HttpApp } from '@fairlead/platform';
import { findProvider, listProviders, type ProviderRow } from '../../projections/providers/providers.queries';
import type { ApiContext } from '../context';
import { requireIfMatch, setEtag } from '../etag';
import { cents, COMMAND_PROBLEMS, Cursor, Id, IfMatchHeaders, Limit, NextCursor, problemResponses, withEtag } from '../schemas';

const P = '/api/v1/admin/providers';
const tags = ['providers'];

export const Provider = z.object({
  provider_id: z.string(),
  name: z.string(),
  email: z.string(),
  balance_cents: z.number().int(),
  balance: z.number().describe('dollars'),
  version: z.number().int().describe('the ETag'),
});
type ProviderOut = z.infer<typeof Provider>;

const fromRow = (p: ProviderRow): ProviderOut => ({
  provider_id: p.provider_id,
  name: p.name,
  email: p.email,
  balance_cents: p.balance_cents ?? 0,
  balance: cents(p.balance_cents ?? 0),
  version: p.version,
});
export const fromProviderReply = (p: CommandReply<'billing', 'get_provider'>): ProviderOut => ({ ...p, balance: cents(p.balance_cents) });

const Params = z.object({ id: Id });
const Name = z.string().trim().min(1).max(200);

export function registerProviderRoutes(app: HttpApp, ctx: ApiContext): void {
  app.get(
    P,
    {
      config: { access: 'read' },
      schema: {
        tags,
        summary: 'Providers by name; q searches name and email',
        querystring: z.object({ q: z.string().trim().min(1).max(200).optional(), cursor: Cursor, limit: Limit() }),
        response: { 200: z.object({ items: z.array(Provider), next_cursor: NextCursor }), ...problemResponses() },
      },
    },
    async (request) => {
      const result = await listProviders(ctx.pool, request.query);
      return { items: result.items.map(fromRow), next_cursor: result.next_cursor };
    },
  );

  app.get(`${P}/:id`, { config: { access: 'read' }, schema: { tags, summary: 'One provider (ETag: its version)', params: Params, response: { 200: withEtag(Provider), ...problemResponses(404) } } }, async (request, reply) => {
    const provider = await findProvider(ctx.pool, request.params.id);
    if (!provider) throw new NotFoundError(`Provider ${request.params.id} is unknown.`, { code: 'PROVIDER_NOT_FOUND' });
    setEtag(reply, provider.version);
    return fromRow(provider);
  });

  app.post(
    P,
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: 'Register a provider (with an empty wallet)',
        body: z.object({ provider_id: Id.optional(), name: Name, email: z.email() }),
        response: { 201: withEtag(Provider), ...problemResponses(...COMMAND_PROBLEMS) },
      },
    },
    async (request, reply) => {
      const provider = await ctx.bus.send('billing', 'register_provider', { ...request.body, actor: actorOf(principalOf(request)) });
      setEtag(reply, provider.version);
      return reply.code(201).send(fromProviderReply(provider));
    },
  );

  app.patch(
    `${P}/:id`,
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: "Change a provider's name or email (If-Match required)",
        params: Params,
        headers: IfMatchHeaders,
        body: z.object({ name: Name.optional(), email: z.email().optional() }),
        response: { 200: withEtag(Provider), ...problemResponses(412, 428, ...COMMAND_PROBLEMS) },
      },
    },
    async (request, reply) => {
      const expected = requireIfMatch(request.headers['if-match']);
      // Billing checks the version in the transaction of the change: a concurrent edit is a 412, never overwritten.
      const provider = await ctx.bus.send('billing', 'update_provider', {
        provider_id: request.params.id,
        ...request.body,
        expected_version: expected,
        actor: actorOf(principalOf(request)),
      });
      setEtag(reply, provider.version);
      return fromProviderReply(provider);
    },
  );
}
