import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * The authentication hook of the REST routes and the MCP endpoint: runs before each
 * request and throws (e.g. platform's UnauthorizedError) to refuse it. None is set
 * until operator authentication exists; main.ts is where it gets plugged in.
 */
export type Authenticate = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;
