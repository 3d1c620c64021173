/** Wallets: balance, ledger, top-ups (operators) and refunds of returned leads (admins), through billing. */
import { z } from 'zod';
import { TopUpCents } from '@fairlead/contracts';
import { actorOf, NotFoundError, principalOf, type HttpApp } from '@fairlead/platform';
import { findProvider } from '../../projections/providers/providers.queries';
import { LEDGER_KINDS } from '../../projections/wallets/wallets.projection';
import { findWallet, listLedger } from '../../projections/wallets/wallets.queries';
import type { ApiContext } from '../context';
import { setEtag } from '../etag';
import { cents, COMMAND_PROBLEMS, Cursor, Id, iso, Limit, NextCursor, problemResponses, Time } from '../schemas';
import { fromProviderReply, Provider } from './providers.routes';

const P = '/api/v1/admin/providers/:id/wallet';
const tags = ['wallets'];
const Params = z.object({ id: Id });

const Wallet = z.object({
  provider_id: z.string(),
  balance_cents: z.number().int(),
  balance: z.number().describe('dollars'),
  topped_up_cents: z.number().int(),
  charged_cents: z.number().int(),
  refunded_cents: z.number().int(),
  updated_at: Time.nullable(),
  version: z.number().int().describe('version of the wallet stream (-1: no movement yet)'),
});

const LedgerEntry = z.object({
  event_id: z.string(),
  version: z.number().int(),
  kind: z.enum(LEDGER_KINDS),
  amount_cents: z.number().int().describe('signed: what the entry did to the balance'),
  balance_after_cents: z.number().int(),
  lead_id: z.string().nullable(),
  note: z.string().nullable(),
  actor_id: z.string().nullable(),
  occurred_at: Time,
});

export function registerWalletRoutes(app: HttpApp, ctx: ApiContext): void {
  app.get(P, { config: { access: 'read' }, schema: { tags, summary: "A provider's wallet: balance and totals", params: Params, response: { 200: Wallet, ...problemResponses(404) } } }, async (request, reply) => {
    const { id } = request.params;
    const wallet = await findWallet(ctx.pool, id);
    if (!wallet) {
      if (!(await findProvider(ctx.pool, id))) throw new NotFoundError(`Provider ${id} is unknown.`, { code: 'PROVIDER_NOT_FOUND' });
      return { provider_id: id, balance_cents: 0, balance: 0, topped_up_cents: 0, charged_cents: 0, refunded_cents: 0, updated_at: null, version: -1 };
    }
    setEtag(reply, wallet.version);
    return { ...wallet, balance: cents(wallet.balance_cents), updated_at: iso(wallet.updated_at) };
  });

  app.get(
    `${P}/ledger`,
    {
      config: { access: 'read' },
      schema: {
        tags,
        summary: "A wallet's ledger, newest first: top-ups, charges, declined charges, refunds",
        params: Params,
        querystring: z.object({ kind: z.enum(LEDGER_KINDS).optional(), cursor: Cursor, limit: Limit() }),
        response: { 200: z.object({ provider_id: z.string(), items: z.array(LedgerEntry), next_cursor: NextCursor }), ...problemResponses() },
      },
    },
    async (request) => {
      const result = await listLedger(ctx.pool, request.params.id, request.query);
      return {
        provider_id: request.params.id,
        items: result.items.map((e) => ({ ...e, occurred_at: iso(e.occurred_at) })),
        next_cursor: result.next_cursor,
      };
    },
  );

  app.post(
    `${P}/top-ups`,
    {
      config: { access: 'operate' },
      schema: {
        tags,
        summary: "Top up a provider's wallet (a paused-for-funds subscription resumes when the balance covers its price)",
        description:
          'Send an `Idempotency-Key` to make retries safe: a repeat of the same top-up (same key, amount and reference) tops up once and answers with the wallet as it is; the same key with another amount or reference is 409 IDEMPOTENCY_KEY_REUSED.',
        params: Params,
        headers: z.object({ 'idempotency-key': z.string().trim().min(1).max(200).optional().describe('makes a retry of this top-up safe') }),
        body: z.object({ amount_cents: TopUpCents, reference: z.string().trim().min(1).max(200).default('top-up') }),
        response: { 200: Provider, ...problemResponses(...COMMAND_PROBLEMS) },
      },
    },
    async (request) => {
      const key = request.headers['idempotency-key'];
      const provider = await ctx.bus.send('billing', 'top_up', {
        provider_id: request.params.id,
        ...request.body,
        ...(key ? { idempotency_key: key } : {}),
        actor: actorOf(principalOf(request)),
      });
      return fromProviderReply(provider);
    },
  );

  app.post(
    `${P}/refunds`,
    {
      config: { access: 'admin' },
      schema: {
        tags,
        summary: 'Refund the charge of a returned lead (once per lead and provider)',
        params: Params,
        body: z.object({ lead_id: Id, reason: z.string().trim().min(1).max(500) }),
        response: { 200: Provider, ...problemResponses(...COMMAND_PROBLEMS) },
      },
    },
    async (request) => {
      const provider = await ctx.bus.send('billing', 'refund', { provider_id: request.params.id, ...request.body, actor: actorOf(principalOf(request)) });
      return fromProviderReply(provider);
    },
  );
}
