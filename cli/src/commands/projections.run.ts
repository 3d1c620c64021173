/** What the projections commands do when they run (loaded on demand by projections.ts). */
import type { Command } from 'commander';
import { z } from 'zod';
import { ProjectionName, ReaderStatus } from '@fairlead/contracts';
import { validate, type CliIo } from '../command-kit';
import { failed } from '../exit-codes';
import { ApiProblem, operatorApi, type ApiOptions, type OperatorApi } from '../operator-api';

const PATH = '/api/v1/admin/projections';

const Reader = ReaderStatus.extend({ service: z.string(), instance: z.string(), message: z.string().nullable() });
export type Reader = z.output<typeof Reader>;
const ReaderList = z.object({ items: z.array(Reader), stalled: z.number().int() });
const Accepted = z.object({ projection: z.string(), event_id: z.string().nullable(), action: z.enum(['retry_requested', 'parked']), stream_version: z.number().int() });

const ParkArgs = z.object({ name: ProjectionName, event: z.string().min(1).max(200), reason: z.string().trim().min(1, 'say why (it goes to the audit log)').max(500) });

/** The readers as a table: one line each, then the stalled ones' messages. */
export function formatReaders(readers: readonly Reader[]): string {
  if (readers.length === 0) return 'no reader reported (is every service running?)\n';
  const rows = readers.map((r) => [r.name, r.state, r.position.global_position, String(r.parked), `${r.service}/${r.instance}`, r.stalled ? `${r.stalled.event_type} ${r.stalled.event_id}` : '']);
  const header = ['NAME', 'STATE', 'POSITION', 'PARKED', 'PROCESS', 'STALLED ON'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  const messages = readers.filter((r) => r.message).map((r) => `\n${r.message}`);
  return `${[line(header), ...rows.map(line)].join('\n')}\n${messages.join('')}${messages.length > 0 ? '\n' : ''}`;
}

/** The names the API knows, for an error about a name it does not. */
async function knownNames(api: OperatorApi): Promise<string> {
  try {
    const { items } = await api.request('GET', PATH, ReaderList);
    return [...new Set(items.map((r) => r.name))].sort().join(', ') || '(none reported)';
  } catch {
    return '(could not list them)';
  }
}

/** A 404 of retry/park names the projections that do exist. */
async function explainNotFound(api: OperatorApi, error: unknown, name: string): Promise<never> {
  if (error instanceof ApiProblem && error.status === 404) throw failed(`no running process reports a projection named ${name}; running: ${await knownNames(api)}`);
  throw error;
}

export async function listReaders(io: CliIo, o: ApiOptions & { state?: string; json?: boolean }): Promise<void> {
  const api = await operatorApi(io.env, o, { role: 'viewer', mfa: false });
  const answer = await api.request('GET', `${PATH}${o.state ? `?state=${encodeURIComponent(o.state)}` : ''}`, ReaderList);
  io.stdout.write(o.json ? `${JSON.stringify(answer, null, 2)}\n` : formatReaders(answer.items));
  io.exit(0);
}

export async function retryReader(cmd: Command, io: CliIo, name: string, o: ApiOptions): Promise<void> {
  const checked = validate(cmd, z.object({ name: ProjectionName }), { name }, { name: '<name>' });
  const api = await operatorApi(io.env, o, { role: 'operator', mfa: true });
  const done = await api.request('POST', `${PATH}/${encodeURIComponent(checked.name)}/retry`, Accepted, {}).catch((e: unknown) => explainNotFound(api, e, checked.name));
  io.stdout.write(`${done.projection}: retry of event ${done.event_id ?? '(none)'} requested\n`);
  io.exit(0);
}

export async function parkEvent(cmd: Command, io: CliIo, name: string, o: ApiOptions & { event: string; reason: string }): Promise<void> {
  const args = validate(cmd, ParkArgs, { name, event: o.event, reason: o.reason }, { name: '<name>' });
  const api = await operatorApi(io.env, o, { role: 'admin', mfa: true });
  const done = await api
    .request('POST', `${PATH}/${encodeURIComponent(args.name)}/park`, Accepted, { event_id: args.event, reason: args.reason })
    .catch((e: unknown) => explainNotFound(api, e, args.name));
  io.stdout.write(`${done.projection}: event ${done.event_id} parked\n`);
  io.exit(0);
}
