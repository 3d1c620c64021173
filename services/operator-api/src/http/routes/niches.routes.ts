/**
 * Niches and their competition levels, read from the projection and changed through the
 * rotation service (the owner of niche streams). ETag = the niche stream's version;
 * updates need If-Match, which becomes the command's expected_version.
 */
import { z } from 'zod';
import { MaxRecipients, OrderPosition, PriceCents, type CommandReply } from '@fairlead/contracts';
import { actorOf, NotFoundError, principalOf, type HttpApp } from '@fairlead/platform';
import { findNiche, listNiches, type NicheWithLevels } from '../../projections/catalogue/catalogue.queries';
import type { ApiContext } from '../context';
import { requireIfMatch, setEtag } from '../etag';
import { COMMAND_PROBLEMS, Id, IfMatchHeaders, problemResponses } from '../schemas';

const P = '/api/v1/admin/niches';
const tags = ['niches'];

const Level = z.object({
  level_id: z.string(),
  name: z.string(),
  order_position: z.number().int(),
  max_recipients: z.number().int(),
  price_per_lead_cents: z.number().int(),
  active: z.boolean(),
});
const Niche = z.object({
  niche_id: z.string(),
  name: z.string(),
  auto_distribute: z.boolean(),
  next_start_order_position: z.number().int(),
  levels: z.array(Level),
  version: z.number().int().describe('the ETag'),
});
type NicheOut = z.infer<typeof Niche>;

const fromProjection = (n: NicheWithLevels): NicheOut => ({
  niche_id: n.niche_id,
  name: n.name,
  auto_distribute: n.auto_distribute,
  next_start_order_position: n.next_start_order_position,
  version: n.version,
  levels: n.levels.map(({ niche_id: _, ...level }) => level),
});
const fromReply = (n: CommandReply<'rotation', 'get_niche'>): NicheOut => ({ ...n, levels: [...n.levels].sort((a, b) => a.order_position - b.order_position) });

const NicheParams = z.object({ id: Id });
const LevelParams = z.object({ id: Id, levelId: Id });
const Name = z.string().trim().min(1).max(200);

export function registerNicheRoutes(app: HttpApp, ctx: ApiContext): void {
  app.get(P, { config: { access: 'read' }, schema: { tags, summary: 'Every niche with its levels', response: { 200: z.object({ items: z.array(Niche) }), ...problemResponses() } } }, async () => ({
    items: (await listNiches(ctx.pool)).map(fromProjection),
  }));

  app.get(`${P}/:id`, { config: { access: 'read' }, schema: { tags, summary: 'One niche (ETag: its version)', params: NicheParams, response: { 200: Niche, ...problemResponses(404) } } }, async (request, reply) => {
    const niche = await findNiche(ctx.pool, request.params.id);
    if (!niche) throw new NotFoundError(`Niche ${request.params.id} is unknown.`, { code: 'NICHE_NOT_FOUND' });
    setEtag(reply, niche.version);
    return fromProjection(niche);
  });

  app.post(
    P,
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: "Create a niche (without auto_distribute, the rotation service's AUTO_DISTRIBUTE_DEFAULT applies)",
        body: z.object({ niche_id: Id.optional(), name: Name, auto_distribute: z.boolean().optional() }),
        response: { 201: Niche, ...problemResponses(...COMMAND_PROBLEMS) },
      },
    },
    async (request, reply) => {
      const { niche_id, name, auto_distribute } = request.body;
      const niche = await ctx.bus.send('rotation', 'create_niche', {
        ...(niche_id ? { niche_id } : {}),
        name,
        // Omitted, the owner's configured default applies: one source of truth for it.
        ...(auto_distribute === undefined ? {} : { auto_distribute }),
        actor: actorOf(principalOf(request)),
      });
      setEtag(reply, niche.version);
      return reply.code(201).send(fromReply(niche));
    },
  );

  app.patch(
    `${P}/:id`,
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: 'Rename a niche or switch its auto-distribution (If-Match required)',
        params: NicheParams,
        headers: IfMatchHeaders,
        body: z.object({ name: Name.optional(), auto_distribute: z.boolean().optional() }),
        response: { 200: Niche, ...problemResponses(412, 428, ...COMMAND_PROBLEMS) },
      },
    },
    async (request, reply) => {
      const expected = requireIfMatch(request.headers['if-match']);
      const niche = await ctx.bus.send('rotation', 'update_niche', {
        niche_id: request.params.id,
        ...request.body,
        expected_version: expected,
        actor: actorOf(principalOf(request)),
      });
      setEtag(reply, niche.version);
      return fromReply(niche);
    },
  );

  app.put(
    `${P}/:id/auto-distribution`,
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: "Set a niche's auto-distribution flag (If-Match required)",
        params: NicheParams,
        headers: IfMatchHeaders,
        body: z.object({ enabled: z.boolean() }),
        response: { 200: Niche, ...problemResponses(412, 428, ...COMMAND_PROBLEMS) },
      },
    },
    async (request, reply) => {
      const expected = requireIfMatch(request.headers['if-match']);
      const niche = await ctx.bus.send('rotation', 'update_niche', {
        niche_id: request.params.id,
        auto_distribute: request.body.enabled,
        expected_version: expected,
        actor: actorOf(principalOf(request)),
      });
      setEtag(reply, niche.version);
      return fromReply(niche);
    },
  );

  app.post(
    `${P}/:id/levels`,
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: 'Add a competition level',
        params: NicheParams,
        body: z.object({
          level_id: Id.optional(),
          name: Name,
          order_position: OrderPosition,
          max_recipients: MaxRecipients,
          price_per_lead_cents: PriceCents,
          active: z.boolean().default(true),
        }),
        response: { 201: Niche, ...problemResponses(...COMMAND_PROBLEMS) },
      },
    },
    async (request, reply) => {
      const niche = await ctx.bus.send('rotation', 'add_level', { niche_id: request.params.id, ...request.body, actor: actorOf(principalOf(request)) });
      setEtag(reply, niche.version);
      return reply.code(201).send(fromReply(niche));
    },
  );

  app.patch(
    `${P}/:id/levels/:levelId`,
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: 'Change a competition level (If-Match: the niche ETag)',
        params: LevelParams,
        headers: IfMatchHeaders,
        body: z.object({
          name: Name.optional(),
          max_recipients: MaxRecipients.optional(),
          price_per_lead_cents: PriceCents.optional(),
          active: z.boolean().optional(),
        }),
        response: { 200: Niche, ...problemResponses(412, 428, ...COMMAND_PROBLEMS) },
      },
    },
    async (request, reply) => {
      const expected = requireIfMatch(request.headers['if-match']);
      const { id, levelId } = request.params;
      const niche = await ctx.bus.send('rotation', 'update_level', {
        niche_id: id,
        level_id: levelId,
        ...request.body,
        expected_version: expected,
        actor: actorOf(principalOf(request)),
      });
      setEtag(reply, niche.version);
      return fromReply(niche);
    },
  );
}
