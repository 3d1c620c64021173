import { expect } from 'vitest';

/** What an injected HTTP response offers (fastify's light-my-request response fits). */
export interface InjectedResponse {
  statusCode: number;
  headers: Record<string, unknown>;
  body: string;
  json<T = unknown>(): T;
}

/**
 * The response is an RFC 9457 problem with this status and code, and a detail for people —
 * never a stack trace or a library's internals.
 */
export function expectProblem(res: InjectedResponse, status: number, code: string): void {
  expect(res.statusCode, `${res.statusCode} ${res.body}`).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  const body = res.json<Record<string, unknown>>();
  expect(body).toMatchObject({ status, code });
  expect(typeof body.detail).toBe('string');
  expect(res.body).not.toMatch(/\bat .+\.(ts|js):\d+|node_modules|stack/i);
}
