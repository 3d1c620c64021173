import type { LeadApprovedV1Input } from './lead-approved';

/** A valid `lead.approved` v1 payload for tests (lower-case state on purpose: it is normalised). */
export const VALID_LEAD: LeadApprovedV1Input = {
  schema_version: 1,
  lead_id: 'lead-42',
  niche_id: 'roofing',
  approved_at: '2025-03-14T09:26:53.589+01:00',
  consumer: { name: 'Ada Lovelace', email: 'ada@example.com' },
  location: { postal_code: '73301', state: 'tx', city: 'Austin' },
  details: { roof: 'shingle', stories: 2 },
};
