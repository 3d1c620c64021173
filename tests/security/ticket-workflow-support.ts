/** Shared by the ticket-workflow security tests: an MCP agent (official client), raw HTTP with any Host, file-tree snapshots. */
import { request } from 'node:http';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

export interface ToolResult {
  isError?: boolean;
  structuredContent?: Record<string, unknown>;
  content: Array<{ type: string; text?: string }>;
}

/** An agent connected with the official MCP client over Streamable HTTP, with `authorization` as its credential. */
export async function connectAgent(port: number, authorization: string | undefined, name = 'security-test') {
  const client = new Client({ name, version: '1.0.0' });
  const headers: Record<string, string> = authorization ? { authorization } : {};
  await client.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp`), { requestInit: { headers } }));
  return {
    client,
    call: async (tool: string, args: Record<string, unknown>) => (await client.callTool({ name: tool, arguments: args })) as ToolResult,
    close: () => client.close(),
  };
}

/** One HTTP request with full control of the headers (fetch will not send a foreign Host). */
export function rawRequest(options: { port: number; method: string; path: string; headers?: Record<string, string>; body?: string }): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: options.port, method: options.method, path: options.path, headers: options.headers }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

export const initializeBody = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
});

/** Every entry below `dir` (files with their content, folders, symlinks with their target), to prove nothing changed. */
export async function snapshotTree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (current: string) => {
    for (const name of (await readdir(current)).sort()) {
      const path = join(current, name);
      const info = await lstat(path);
      const key = relative(dir, path);
      if (info.isSymbolicLink()) out[key] = `-> ${await readlink(path)}`;
      else if (info.isDirectory()) {
        out[key] = '<dir>';
        await walk(path);
      } else out[key] = await readFile(path, 'utf8');
    }
  };
  await walk(dir);
  return out;
}
