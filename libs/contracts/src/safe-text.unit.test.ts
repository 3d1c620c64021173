import { describe, expect, it } from 'vitest';
import { billingCommands, rotationCommands } from './distribution/commands';
import { LeadApprovedV1 } from './lead-approved';
import { VALID_LEAD } from './lead-approved.sample';
import { findJsonProblems, isSafeText, SafeText, toSafeText } from './safe-text';

/** A value nested `depth` levels deep: {a:{a:…{}}}. */
function nested(depth: number): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  let at = root;
  for (let i = 1; i < depth; i++) {
    const next: Record<string, unknown> = {};
    at.a = next;
    at = next;
  }
  return root;
}

describe('safe text', () => {
  it('refuses NUL characters and unpaired surrogates, and keeps surrogate pairs (emoji) and other text', () => {
    expect(['plain', 'Ünïcødé', 'emoji 😀', '', 'tab\tnewline\n'].map(isSafeText)).toEqual([true, true, true, true, true]);
    expect(['a\u0000b', 'lone high \ud800', 'lone low \udc00 x', '\udc00\ud800', '😀'.slice(0, 1)].map(isSafeText)).toEqual([false, false, false, false, false]);
    expect(toSafeText('a\u0000b\ud800c😀')).toBe('a\uFFFDb\uFFFDc😀');
  });

  it('is a string schema that still chains min/max and reports its own message', () => {
    const name = SafeText.min(1).max(5);
    expect(name.safeParse('abc').success).toBe(true);
    expect(name.safeParse('abcdef').success).toBe(false);
    const refused = name.safeParse('a\u0000');
    expect(refused.success).toBe(false);
    expect(refused.error?.issues[0]?.message).toMatch(/NUL/);
  });

  it('is part of every free-text field of the commands and of lead.approved', () => {
    expect(rotationCommands.create_niche.request.safeParse({ name: 'Movers\u0000' }).success).toBe(false);
    expect(billingCommands.top_up.request.safeParse({ provider_id: 'p1', amount_cents: 100, reference: 'x\ud800' }).success).toBe(false);
    expect(billingCommands.top_up.request.safeParse({ provider_id: 'p1', amount_cents: 100, actor: { actor_id: 'ops\u0000', actor_role: 'admin' } }).success).toBe(false);
    const lead = { ...VALID_LEAD, consumer: { name: 'Ada\u0000', email: 'ada@example.com' } };
    const parsed = LeadApprovedV1.safeParse(lead);
    expect(parsed.error?.issues.map((i) => i.path.join('/'))).toEqual(['consumer/name']);
  });

  it('checks the keys and strings of lead details (their depth is intake\'s to bound, with the whole message)', () => {
    expect(LeadApprovedV1.safeParse({ ...VALID_LEAD, details: nested(40) }).success).toBe(true);
    const keys = LeadApprovedV1.safeParse({ ...VALID_LEAD, details: { ok: ['x', { 'k\u0000': 1, v: 'y\udfff' }] } });
    expect(keys.error?.issues.map((i) => i.path.join('/')).sort()).toEqual(['details/ok/1', 'details/ok/1/v']);
  });
});

describe('findJsonProblems', () => {
  it('reports a value nested 300 000 levels deep without overflowing the stack', () => {
    let value: unknown = [];
    for (let i = 0; i < 300_000; i++) value = [value];
    const [problem] = findJsonProblems(value, { maxDepth: 32 });
    expect(problem?.kind).toBe('too_deep');
    expect(problem?.path).toHaveLength(32);
  });

  it('stops at the limit and finds nothing in clean values', () => {
    expect(findJsonProblems({ a: [1, 'two', { three: null, four: true }] })).toEqual([]);
    expect(findJsonProblems(Array.from({ length: 50 }, () => '\u0000'), { limit: 3 })).toHaveLength(3);
  });
});
