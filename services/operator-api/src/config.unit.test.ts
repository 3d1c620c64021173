/**
 * The operator API's own settings as its environment gives them: the read models' read
 * spacing (OPERATOR_PROJECTION_MIN_READ_INTERVAL_MS) defaults to 250 ms and refuses, with
 * its name in the reason, what is not a whole number of milliseconds in [0, 5000].
 */
import { describe, expect, it } from 'vitest';
import { OPERATOR_PROJECTION_MIN_READ_INTERVAL_MS, operatorApiConfigSchema } from './config';

const base = { DATABASE_URL: 'postgres://u:p@127.0.0.1:5432/db', NATS_URL: 'nats://127.0.0.1:4222' };

describe('OPERATOR_PROJECTION_MIN_READ_INTERVAL_MS', () => {
  it('defaults to 250 ms and takes a value in range', () => {
    expect(OPERATOR_PROJECTION_MIN_READ_INTERVAL_MS).toBe(250);
    expect(operatorApiConfigSchema.parse(base).OPERATOR_PROJECTION_MIN_READ_INTERVAL_MS).toBe(250);
    expect(operatorApiConfigSchema.parse({ ...base, OPERATOR_PROJECTION_MIN_READ_INTERVAL_MS: '0' }).OPERATOR_PROJECTION_MIN_READ_INTERVAL_MS).toBe(0);
    expect(operatorApiConfigSchema.parse({ ...base, OPERATOR_PROJECTION_MIN_READ_INTERVAL_MS: '5000' }).OPERATOR_PROJECTION_MIN_READ_INTERVAL_MS).toBe(5000);
  });

  it.each(['-1', '5001', '12.5', 'soon', '1e9'])('refuses %s, naming the setting', (value) => {
    const result = operatorApiConfigSchema.safeParse({ ...base, OPERATOR_PROJECTION_MIN_READ_INTERVAL_MS: value });
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((i) => i.path.join('.'))).toContain('OPERATOR_PROJECTION_MIN_READ_INTERVAL_MS');
  });
});
