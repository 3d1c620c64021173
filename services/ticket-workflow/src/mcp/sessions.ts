import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { Logger } from '@fairlead/platform';
import type { LiveUpdate } from '../application/live-updates';
import type { McpCaller } from '../http/auth';

/**
 * Stateful MCP sessions (Streamable HTTP with Mcp-Session-Id), kept so the server can send
 * notifications to a client over its `GET /mcp` event stream. A session belongs to the
 * credential that opened it (another credential gets "session not found"), lives in this
 * process's memory (a client talks to one instance), is bounded in number, and is closed
 * after `idleMs` without a request while no stream is open.
 */
export interface McpSession {
  id: string;
  caller: McpCaller;
  server: McpServer;
  transport: StreamableHTTPServerTransport;
  lastSeen: number;
  /** GET streams open now. */
  streams: number;
}

export class McpSessions {
  private readonly sessions = new Map<string, McpSession>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(private readonly options: { max: number; idleMs: number; logger: Pick<Logger, 'warn'>; now?: () => number }) {
    this.sweeper = setInterval(() => void this.closeIdle(), Math.min(60_000, options.idleMs));
    this.sweeper.unref();
  }

  get size(): number {
    return this.sessions.size;
  }

  get full(): boolean {
    return this.sessions.size >= this.options.max;
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  add(session: Omit<McpSession, 'lastSeen' | 'streams'>): void {
    this.sessions.set(session.id, { ...session, lastSeen: this.now(), streams: 0 });
  }

  remove(id: string | undefined): void {
    if (id !== undefined) this.sessions.delete(id);
  }

  /** The session, when it exists and belongs to this caller. */
  find(id: string, caller: McpCaller): McpSession | undefined {
    const session = this.sessions.get(id);
    if (!session || session.caller.id !== caller.id) return undefined;
    session.lastSeen = this.now();
    return session;
  }

  /** Sends an update to every session, as an MCP logging notification (`notifications/message`, logger `ticket-workflow`). */
  broadcast(update: LiveUpdate): void {
    for (const session of this.sessions.values()) {
      session.server.server.sendLoggingMessage({ level: 'info', logger: 'ticket-workflow', data: update }).catch((error: unknown) => {
        this.options.logger.warn({ err: error, session: session.id }, 'could not notify an MCP session');
      });
    }
  }

  async closeIdle(): Promise<void> {
    const cutoff = this.now() - this.options.idleMs;
    for (const session of [...this.sessions.values()]) {
      if (session.streams === 0 && session.lastSeen < cutoff) await this.close(session);
    }
  }

  async closeAll(): Promise<void> {
    clearInterval(this.sweeper);
    for (const session of [...this.sessions.values()]) await this.close(session);
  }

  private async close(session: McpSession): Promise<void> {
    this.sessions.delete(session.id);
    await session.transport.close().catch(() => undefined);
    await session.server.close().catch(() => undefined);
  }
}
