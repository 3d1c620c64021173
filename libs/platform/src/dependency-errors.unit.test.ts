import { describe, expect, it } from 'vitest';
import { isDatabaseUnavailable } from './dependency-errors';
import { toProblem } from './problem';

const pgError = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('isDatabaseUnavailable', () => {
  it('recognises refused and dropped connections, shutdowns and a missing database, also wrapped', () => {
    for (const error of [
      pgError('ECONNREFUSED'),
      pgError('57P01', 'terminating connection due to administrator command'),
      pgError('57P03', 'the database system is starting up'),
      pgError('08006'),
      pgError('3D000', 'database "x" does not exist'),
      pgError('53300', 'too many connections'),
      new Error('Connection terminated unexpectedly'),
      new Error('timeout exceeded when trying to connect'),
      new Error('event store read failed', { cause: pgError('ECONNRESET') }),
      new AggregateError([pgError('ECONNREFUSED'), pgError('ECONNREFUSED')], 'connect failed'),
    ]) {
      expect(isDatabaseUnavailable(error), String(error)).toBe(true);
    }
  });

  it('leaves everything else alone: constraint violations, syntax errors, plain errors', () => {
    for (const error of [pgError('23505', 'duplicate key'), pgError('42601', 'syntax error'), pgError('22P05', 'unsupported Unicode escape sequence'), new Error('boom'), 'text', null]) {
      expect(isDatabaseUnavailable(error), String(error)).toBe(false);
    }
  });

  it('makes a 503 problem with Retry-After that names nothing of the driver', () => {
    const p = toProblem(new Error('read failed', { cause: pgError('ECONNREFUSED', 'connect ECONNREFUSED 10.0.0.7:5432') }), { requestId: 'r1' });
    expect([p.status, p.body.code, p.headers['retry-after'], p.internal]).toEqual([503, 'DATABASE_UNAVAILABLE', '5', true]);
    expect(JSON.stringify(p.body)).not.toMatch(/ECONN|10\.0\.0\.7/);
  });
});
