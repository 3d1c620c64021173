import { describe, expect, it } from 'vitest';
import { createLogger, redactSecrets } from './logger';

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const raw: string[] = [];
  return {
    lines,
    raw,
    destination: {
      write(line: string) {
        raw.push(line);
        lines.push(JSON.parse(line) as Record<string, unknown>);
      },
    },
  };
}

describe('createLogger', () => {
  it('writes JSON lines with service, level label, time and child bindings', () => {
    const out = capture();
    const logger = createLogger({ service: 'relay', level: 'debug', destination: out.destination });
    logger.child({ component: 'publisher' }).debug({ position: 7 }, 'published');
    expect(out.lines).toHaveLength(1);
    expect(out.lines[0]).toMatchObject({ service: 'relay', component: 'publisher', level: 'debug', position: 7, msg: 'published' });
    expect(String(out.lines[0]?.time)).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('respects the level', () => {
    const out = capture();
    const logger = createLogger({ service: 's', level: 'warn', destination: out.destination });
    logger.info('hidden');
    logger.warn('shown');
    expect(out.lines.map((l) => l.msg)).toEqual(['shown']);
  });

  it('redacts authorization headers, cookies and password fields', () => {
    const out = capture();
    const logger = createLogger({ service: 's', destination: out.destination });
    logger.info({ headers: { authorization: 'Token abc.def.ghi', cookie: 'sid=1', accept: 'json', 'x-api-key': 'k-123' }, smtp: { password: 'p4ss' } }, 'request');
    const text = out.raw.join('');
    expect(text).not.toMatch(/abc\.def\.ghi|sid=1|p4ss|k-123/);
    expect(out.lines[0]).toMatchObject({ headers: { authorization: '[redacted]', cookie: '[redacted]', accept: 'json', 'x-api-key': '[redacted]' }, smtp: { password: '[redacted]' } });
  });

  it('masks passwords inside URLs in messages, fields and error stacks', () => {
    const out = capture();
    const logger = createLogger({ service: 's', destination: out.destination });
    const url = 'postgres://fairlead:s3cr3t@db:5432/fairlead';
    logger.error({ err: new Error(`cannot connect to ${url}`), databaseUrl: url }, 'connecting to %s', url);
    const text = out.raw.join('');
    expect(text).not.toContain('s3cr3t');
    expect(out.lines[0]?.msg).toBe('connecting to postgres://fairlead:***@db:5432/fairlead');
    expect(out.lines[0]?.databaseUrl).toBe('postgres://fairlead:***@db:5432/fairlead');
  });
});

describe('redactSecrets', () => {
  it('masks only the password of URLs', () => {
    expect(redactSecrets('a nats://u:p@h:4222 and smtp://mail:1025 and https://x.dev/a:b@c')).toBe(
      'a nats://u:***@h:4222 and smtp://mail:1025 and https://x.dev/a:b@c',
    );
  });
});

describe('credentials in URLs and headers', () => {
  it('masks tokens in query strings and bearer tokens, wherever they appear in a line', () => {
    const out = capture();
    const logger = createLogger({ service: 's', destination: out.destination });
    logger.info({ req: { method: 'GET', url: '/v1/mail?limit=2&access_token=eyJ.abc.def&token=t0k3n&api_key=k3y' } }, 'incoming request');
    logger.warn({ err: new Error('refused header Bearer eyJhbGciOi.payload.sig') }, 'GET /x?token=again failed');
    const text = out.raw.join('');
    expect(text).not.toMatch(/eyJ\.abc|t0k3n|k3y|eyJhbGciOi|again/);
    expect(out.lines[0]).toMatchObject({ req: { method: 'GET', url: '/v1/mail?limit=2&access_token=[redacted]&token=[redacted]&api_key=[redacted]' } });
    expect(out.lines[1]?.msg).toBe('GET /x?token=[redacted] failed');
  });

  it('is what fastify logs of each request (the logger serializes `req`)', () => {
    const out = capture();
    const logger = createLogger({ service: 's', destination: out.destination });
    logger.info({ req: { method: 'POST', url: '/a?access_token=secret-value', host: 'h', ip: '127.0.0.1', socket: { remotePort: 5 }, headers: { authorization: 'Bearer x' } } }, 'incoming request');
    expect(out.lines[0]?.req).toEqual({ method: 'POST', url: '/a?access_token=[redacted]', host: 'h', remoteAddress: '127.0.0.1', remotePort: 5 });
  });
});
