import { z } from 'zod';

/**
 * `lead.approved` v1: what upstream systems publish when a lead is approved for
 * distribution. Published on NATS (JetStream) or POSTed to intake over HTTP. Intake
 * also refuses a message larger than 64 KiB or nested deeper than 32 levels (LEAD_LIMITS;
 * configurable), before anything is stored.
 */
export const LeadApprovedV1 = z
  .object({
    schema_version: z.literal(1).describe('Version of this message schema'),
    lead_id: z.string().min(1).max(128).regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, "_" and "-" only').describe('Upstream id of the lead; distribution is idempotent by it'),
    niche_id: z.string().min(1).max(128).regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, "_" and "-" only').describe('Niche (vertical) the lead belongs to'),
    approved_at: z.iso.datetime({ offset: true }).describe('When the lead was approved upstream (ISO 8601)'),
    consumer: z
      .object({
        name: z.string().min(1).max(200),
        email: z.email().optional(),
        phone: z.string().min(3).max(40).optional(),
      })
      .refine((c) => c.email !== undefined || c.phone !== undefined, {
        message: 'the consumer needs an email or a phone number',
      })
      // The refine above is invisible to JSON Schema; anyOf says the same to non-TypeScript publishers.
      .meta({ description: "The consumer's contact", anyOf: [{ required: ['email'] }, { required: ['phone'] }] }),
    location: z
      .object({
        postal_code: z.string().trim().min(3).max(12),
        state: z
          .string()
          .trim()
          .regex(/^[A-Za-z]{2}$/, 'a two-letter state code')
          .transform((s) => s.toUpperCase()),
        city: z.string().max(120).optional(),
      })
      .describe("The consumer's location; eligibility matches providers' service areas on it"),
    details: z
      .record(z.string(), z.unknown())
      .default({})
      .describe('Free-form details of the request. The whole message may be at most 64 KiB (UTF-8) and 32 levels deep by default.'),
  })
  .strict();

export type LeadApprovedV1 = z.output<typeof LeadApprovedV1>;
export type LeadApprovedV1Input = z.input<typeof LeadApprovedV1>;
