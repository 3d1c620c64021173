/**
 * The relay's RELAY_ACK_PER_PAGE as its environment gives it: on by default, `false`/`0` turn
 * it off, and anything that is not a boolean is refused with the setting's name in the reason.
 */
import { describe, expect, it } from 'vitest';
import { relayConfigSchema } from './config';

const base = { DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/db', NATS_URL: 'nats://127.0.0.1:4222' };

describe('RELAY_ACK_PER_PAGE', () => {
  it('is on by default and turns off with false or 0', () => {
    expect(relayConfigSchema.parse(base).RELAY_ACK_PER_PAGE).toBe(true);
    expect(relayConfigSchema.parse({ ...base, RELAY_ACK_PER_PAGE: 'true' }).RELAY_ACK_PER_PAGE).toBe(true);
    expect(relayConfigSchema.parse({ ...base, RELAY_ACK_PER_PAGE: 'false' }).RELAY_ACK_PER_PAGE).toBe(false);
    expect(relayConfigSchema.parse({ ...base, RELAY_ACK_PER_PAGE: '0' }).RELAY_ACK_PER_PAGE).toBe(false);
  });

  it.each(['maybe', 'yes please', '2', ''])('refuses %j, naming the setting', (value) => {
    const result = relayConfigSchema.safeParse({ ...base, RELAY_ACK_PER_PAGE: value });
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((i) => i.path.join('.'))).toContain('RELAY_ACK_PER_PAGE');
  });
});
