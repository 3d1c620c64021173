import { describe, expect, it } from 'vitest';
import { LeadApprovedV1 } from './lead-approved';
import { VALID_LEAD } from './lead-approved.sample';

/** The issues of a failed parse as `path: message`, the form a publisher reads. */
function issuesOf(input: unknown): Array<{ path: string; code: string; message: string }> {
  const result = LeadApprovedV1.safeParse(input);
  if (result.success) throw new Error('expected the payload to be rejected');
  return result.error.issues.map((i) => ({ path: i.path.join('.'), code: i.code, message: i.message }));
}

describe('lead.approved v1', () => {
  it('accepts a valid payload and upper-cases the state', () => {
    const lead = LeadApprovedV1.parse(VALID_LEAD);
    expect(lead.location.state).toBe('TX');
    expect(lead.details).toEqual({ roof: 'shingle', stories: 2 });
    expect(lead.consumer).toEqual({ name: 'Ada Lovelace', email: 'ada@example.com' });
  });

  it('trims the location before checking it', () => {
    const lead = LeadApprovedV1.parse({ ...VALID_LEAD, location: { postal_code: ' 73301 ', state: ' ca ' } });
    expect(lead.location).toEqual({ postal_code: '73301', state: 'CA' });
  });

  it('defaults details to an empty object and accepts a phone instead of an email', () => {
    const { details: _details, ...withoutDetails } = VALID_LEAD;
    const lead = LeadApprovedV1.parse({ ...withoutDetails, consumer: { name: 'Bob', phone: '+1 512 555 0100' } });
    expect(lead.details).toEqual({});
    expect(lead.consumer.phone).toBe('+1 512 555 0100');
  });

  it('names every missing field', () => {
    const issues = issuesOf({ schema_version: 1 });
    expect(issues.map((i) => i.path).sort()).toEqual(['approved_at', 'consumer', 'lead_id', 'location', 'niche_id']);
    expect(issues.every((i) => i.code === 'invalid_type' && /expected/.test(i.message))).toBe(true);
  });

  it('rejects another schema version', () => {
    expect(issuesOf({ ...VALID_LEAD, schema_version: 2 })).toEqual([
      { path: 'schema_version', code: 'invalid_value', message: expect.stringContaining('1') },
    ]);
  });

  it.each([
    ['a lead id that is not a subject token', { lead_id: 'lead.42' }, 'lead_id', 'invalid_format'],
    ['an over-long niche id', { niche_id: 'n'.repeat(129) }, 'niche_id', 'too_big'],
    ['a time without offset', { approved_at: '2025-03-14T09:26:53' }, 'approved_at', 'invalid_format'],
    ['a date that is not a time', { approved_at: 'yesterday' }, 'approved_at', 'invalid_format'],
    ['a malformed email', { consumer: { name: 'Ada', email: 'ada-at-example' } }, 'consumer.email', 'invalid_format'],
    ['an empty consumer name', { consumer: { name: '', email: 'a@b.co' } }, 'consumer.name', 'too_small'],
    ['a three-letter state', { location: { postal_code: '73301', state: 'TEX' } }, 'location.state', 'invalid_format'],
    ['a state with a digit', { location: { postal_code: '73301', state: 'T1' } }, 'location.state', 'invalid_format'],
    ['a short postal code', { location: { postal_code: '12', state: 'TX' } }, 'location.postal_code', 'too_small'],
    ['details that are not an object', { details: ['a'] }, 'details', 'invalid_type'],
  ])('rejects %s with a readable issue at its path', (_what, patch, path, code) => {
    const issues = issuesOf({ ...VALID_LEAD, ...patch });
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ path, code });
    expect(issues[0]?.message.length).toBeGreaterThan(5);
  });

  it('lists every broken rule of one field', () => {
    expect(issuesOf({ ...VALID_LEAD, lead_id: '' }).map((i) => i.code)).toEqual(['too_small', 'invalid_format']);
  });

  it('says a consumer needs an email or a phone', () => {
    expect(issuesOf({ ...VALID_LEAD, consumer: { name: 'Ada' } })).toEqual([
      { path: 'consumer', code: 'custom', message: 'the consumer needs an email or a phone number' },
    ]);
  });

  it('says the state must be a two-letter code', () => {
    expect(issuesOf({ ...VALID_LEAD, location: { postal_code: '73301', state: 'Texas' } })[0]?.message).toBe('a two-letter state code');
  });

  it('rejects unknown top-level keys (strict), naming them', () => {
    const issues = issuesOf({ ...VALID_LEAD, leadId: 'typo', price: 10 });
    expect(issues).toEqual([{ path: '', code: 'unrecognized_keys', message: expect.stringMatching(/leadId.*price/) }]);
  });

  it('rejects what is not an object at all', () => {
    for (const input of [null, 'lead', 42, []]) expect(issuesOf(input)[0]?.code).toBe('invalid_type');
  });
});
