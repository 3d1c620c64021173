import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { baseConfigSchema, ConfigError, env, loadConfig } from './config';

const VALID = {
  SERVICE_NAME: 'relay',
  DATABASE_URL: 'postgres://u:secret-pw@db:5432/fairlead',
  NATS_URL: 'nats://nats:4222',
};

function problemsOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('applies defaults and coerces numbers', () => {
    const config = loadConfig(baseConfigSchema, { ...VALID, HTTP_PORT: '7107' });
    expect(config).toMatchObject({
      NODE_ENV: 'development',
      LOG_LEVEL: 'info',
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: 7107,
      SHUTDOWN_TIMEOUT_MS: 10_000,
      SERVICE_NAME: 'relay',
    });
  });

  it('lists every missing and every invalid variable in one error, without their values', () => {
    const error = problemsOf(() =>
      loadConfig(baseConfigSchema, { DATABASE_URL: 'mysql://root:hunter2@db/x', HTTP_PORT: 'eighty', LOG_LEVEL: 'loud' }),
    );
    const byVariable = Object.fromEntries(error.problems.map((p) => [p.variable, p.problem]));
    expect(Object.keys(byVariable).sort()).toEqual(['DATABASE_URL', 'HTTP_PORT', 'LOG_LEVEL', 'NATS_URL', 'SERVICE_NAME']);
    expect(byVariable.SERVICE_NAME).toBe('missing (required)');
    expect(byVariable.NATS_URL).toBe('missing (required)');
    expect(byVariable.DATABASE_URL).toMatch(/postgres/);
    expect(byVariable.HTTP_PORT).toMatch(/port/);
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toMatch(/invalid configuration \(5 problems\)/);
    for (const variable of Object.keys(byVariable)) expect(error.message).toContain(`  ${variable}: `);
    expect(error.message).not.toContain('hunter2');
  });

  it('treats an empty variable as unset, so the default applies or it is reported missing', () => {
    const config = loadConfig(baseConfigSchema, { ...VALID, LOG_LEVEL: '' });
    expect(config.LOG_LEVEL).toBe('info');
    const error = problemsOf(() => loadConfig(baseConfigSchema, { ...VALID, SERVICE_NAME: '' }));
    expect(error.problems).toEqual([{ variable: 'SERVICE_NAME', problem: 'missing (required)' }]);
  });

  it('returns a deeply frozen object', () => {
    const schema = baseConfigSchema.extend({ ALLOWED: env.list(), FEATURE: env.boolean().default(false) });
    const config = loadConfig(schema, { ...VALID, ALLOWED: 'a, b,,c' });
    expect(config.ALLOWED).toEqual(['a', 'b', 'c']);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.ALLOWED)).toBe(true);
    expect(() => {
      (config as { HTTP_PORT: number }).HTTP_PORT = 1;
    }).toThrow(TypeError);
    expect(() => (config.ALLOWED as string[]).push('d')).toThrow(TypeError);
  });

  it('is extended by services with their own variables', () => {
    const schema = baseConfigSchema.extend({ RELAY_BATCH_SIZE: z.coerce.number().int().positive().default(500) });
    expect(loadConfig(schema, { ...VALID, RELAY_BATCH_SIZE: '42' }).RELAY_BATCH_SIZE).toBe(42);
    const error = problemsOf(() => loadConfig(schema, { ...VALID, RELAY_BATCH_SIZE: '-1' }));
    expect(error.problems.map((p) => p.variable)).toEqual(['RELAY_BATCH_SIZE']);
  });
});

describe('env helpers', () => {
  it('reads booleans the way people write them (and "false" is false)', () => {
    const b = env.boolean();
    expect(['true', 'TRUE', '1', 'yes', 'on'].map((v) => b.parse(v))).toEqual([true, true, true, true, true]);
    expect(['false', '0', 'no', 'off'].map((v) => b.parse(v))).toEqual([false, false, false, false]);
    expect(b.safeParse('maybe').success).toBe(false);
  });

  it('accepts one or more NATS servers and rejects other schemes', () => {
    const n = env.natsServers();
    expect(n.safeParse('nats://a:4222,nats://b:4222').success).toBe(true);
    expect(n.safeParse('127.0.0.1:4222').success).toBe(true);
    expect(n.safeParse('http://a:4222').success).toBe(false);
    expect(n.safeParse('nats://a:4222,').success).toBe(false);
  });

  it('accepts postgres URLs only', () => {
    expect(env.postgresUrl().safeParse('postgresql://u:p@h:5432/db').success).toBe(true);
    expect(env.postgresUrl().safeParse('http://h/db').success).toBe(false);
  });
});
