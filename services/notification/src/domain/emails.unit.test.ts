import { describe, expect, it } from 'vitest';
import { firstNameOf, formatDollars, formatLocation, leadAssignedVariables, outboxId, TEMPLATE_VARIABLES } from './emails';

describe('emails', () => {
  it('formats cents as dollars with integer arithmetic', () => {
    expect(formatDollars(0)).toBe('0.00');
    expect(formatDollars(5)).toBe('0.05');
    expect(formatDollars(2500)).toBe('25.00');
    expect(formatDollars(1234567)).toBe('12,345.67');
    expect(formatDollars(100_000_001)).toBe('1,000,000.01');
  });

  it('keeps only the first name of the consumer', () => {
    expect(firstNameOf('  Maria  del Carmen Lopez ')).toBe('Maria');
    expect(firstNameOf('Cher')).toBe('Cher');
  });

  it('writes the location with or without a city', () => {
    expect(formatLocation({ city: 'Austin', state: 'TX', postal_code: '78701' })).toBe('Austin, TX 78701');
    expect(formatLocation({ city: undefined, state: 'TX', postal_code: '78701' })).toBe('TX 78701');
  });

  it('gives lead_assigned every documented variable and nothing more', () => {
    const vars = leadAssignedVariables({
      provider: { name: 'Acme Roofing', email: 'a@example.com' },
      nicheName: 'Roofing',
      levelName: 'Gold',
      priceCents: 4250,
      assignedAt: '2025-01-01T00:00:00.000Z',
      lead: { lead_id: 'L1', postal_code: '78701', state: 'TX', city: 'Austin', consumer_first_name: 'Maria' },
    });
    expect(Object.keys(vars).sort()).toEqual([...TEMPLATE_VARIABLES.lead_assigned].sort());
    expect(vars.price_charged).toBe('42.50');
    expect(vars.amount_charged).toBe('$42.50');
    expect(vars.lead_location).toBe('Austin, TX 78701');
  });

  it('derives one outbox id per (email, source event)', () => {
    const a = outboxId('lead_assigned', 'e1');
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(outboxId('lead_assigned', 'e1')).toBe(a);
    expect(outboxId('lead_assigned', 'e2')).not.toBe(a);
    expect(outboxId('low_balance', 'e1')).not.toBe(a);
  });
});
