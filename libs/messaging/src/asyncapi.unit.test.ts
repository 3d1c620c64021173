/**
 * The committed AsyncAPI document (libs/messaging/asyncapi.json) is what the contracts
 * make, is valid AsyncAPI 3 by the reference parser, and covers every command, event,
 * lead.approved and the dead letters.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Parser } from '@asyncapi/parser';
import { describe, expect, it } from 'vitest';
import { COMMANDS, DISTRIBUTION_EVENTS, SUBJECTS } from '@fairlead/contracts';
import { asyncApiDocument, EVENT_CATEGORIES, renderAsyncApi } from './asyncapi';

const committedFile = resolve(import.meta.dirname, '..', 'asyncapi.json');

/** Diagnostics of the parser: severity 0 error, 1 warning, 2 info, 3 hint. */
async function diagnosticsOf(doc: unknown): Promise<string[]> {
  const { diagnostics } = await new Parser().parse(JSON.stringify(doc));
  return diagnostics.map((d) => `${d.severity} ${d.code} ${d.path.join('.')}: ${d.message}`);
}

describe('the AsyncAPI document', () => {
  it('is committed as the contracts make it (run `npm run contracts:asyncapi` after changing a contract)', async () => {
    const committed = await readFile(committedFile, 'utf8').catch(() => undefined);
    expect(committed, 'libs/messaging/asyncapi.json is missing or stale; run npm run contracts:asyncapi').toBe(renderAsyncApi());
  });

  it('parses as AsyncAPI 3 without a single diagnostic', async () => {
    expect(await diagnosticsOf(asyncApiDocument())).toEqual([]);
  });

  it('is rejected by the same parser when a reply names a message its channel does not carry (the check can fail)', async () => {
    const doc = asyncApiDocument() as { operations: Record<string, { reply?: { messages: { $ref: string }[] } }> };
    doc.operations.cmd_rotation_create_niche!.reply!.messages = [{ $ref: '#/channels/commandReplies/messages/no_such_reply' }];
    const errors = (await diagnosticsOf(doc)).filter((d) => d.startsWith('0 '));
    expect(errors.length).toBeGreaterThan(0);
  });

  it('has a channel for lead.approved, every command, every distribution event and the dead letters', () => {
    const doc = asyncApiDocument() as { channels: Record<string, { address: string | null }> };
    const addresses = Object.values(doc.channels).map((c) => c.address);
    expect(addresses).toContain(SUBJECTS.leadApproved);
    for (const [service, verbs] of Object.entries(COMMANDS)) for (const verb of Object.keys(verbs)) expect(addresses).toContain(SUBJECTS.command(service, verb));
    for (const type of Object.keys(DISTRIBUTION_EVENTS) as (keyof typeof EVENT_CATEGORIES)[]) expect(addresses).toContain(SUBJECTS.eventSubject(EVENT_CATEGORIES[type], type));
    expect(addresses).toContain(`${SUBJECTS.deadLetter}.{originalSubject}`);
  });
});
