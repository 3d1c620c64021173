import {
  JetStreamApiCodes,
  JetStreamApiError,
  type ConsumerConfig,
  type ConsumerInfo,
  type JetStreamManager,
  type StreamConfig,
  type StreamInfo,
} from '@nats-io/jetstream';
import { MessagingError } from './errors';

/** A stream as the code wants it; keys left out keep the server's defaults (durations in nanoseconds). */
export type StreamDeclaration = Partial<StreamConfig> & Pick<StreamConfig, 'name' | 'subjects'>;

/** A durable consumer as the code wants it. */
export interface ConsumerDeclaration {
  stream: string;
  config: Partial<ConsumerConfig> & { durable_name: string };
}

export interface DeclarationResult {
  name: string;
  action: 'created' | 'updated' | 'unchanged';
  /** The declared keys whose server values differed (empty unless updated). */
  changed: string[];
}

/** A declaration the server refused (e.g. changing a stream's retention, which NATS forbids). */
export class DeclarationError extends MessagingError {
  constructor(
    readonly target: string,
    options?: { cause?: unknown },
  ) {
    super('MESSAGING_DECLARATION_FAILED', `could not declare ${target}: ${String((options?.cause as Error | undefined)?.message ?? 'refused')}`, options);
    this.name = 'DeclarationError';
  }
}

// Another instance starting at the same moment may create the resource between our
// lookup and our create; one more round then finds it and compares.
const ROUNDS = 2;

/** Creates each stream, or updates it when a declared value differs; run at every start-up. */
export async function declareStreams(jsm: JetStreamManager, declarations: readonly StreamDeclaration[], options: DeclareOptions = {}): Promise<DeclarationResult[]> {
  const results: DeclarationResult[] = [];
  for (const declaration of declarations) results.push(await declareStream(jsm, declaration, options));
  return results;
}

export async function declareStream(jsm: JetStreamManager, declaration: StreamDeclaration, options: DeclareOptions = {}): Promise<DeclarationResult> {
  return declaring(`stream ${declaration.name}`, options, async () => {
    const info = await findStream(jsm, declaration.name);
    if (!info) {
      await jsm.streams.add({ ...declaration });
      return { name: declaration.name, action: 'created', changed: [] };
    }
    const changed = differingKeys(declaration, info.config, ['name']);
    if (changed.length === 0) return { name: declaration.name, action: 'unchanged', changed };
    const { name: _name, ...update } = declaration;
    await jsm.streams.update(declaration.name, update);
    return { name: declaration.name, action: 'updated', changed };
  });
}

/** Creates the durable consumer, or updates it when a declared value differs. */
export async function declareConsumer(jsm: JetStreamManager, declaration: ConsumerDeclaration, options: DeclareOptions = {}): Promise<DeclarationResult> {
  const { stream, config } = declaration;
  const name = config.durable_name;
  return declaring(`consumer ${stream}/${name}`, options, async () => {
    const info = await findConsumer(jsm, stream, name);
    if (!info) {
      await jsm.consumers.add(stream, { ...config });
      return { name, action: 'created', changed: [] };
    }
    const changed = differingKeys(config, info.config, ['durable_name', 'name']);
    if (changed.length === 0) return { name, action: 'unchanged', changed };
    await jsm.consumers.update(stream, name, { ...config });
    return { name, action: 'updated', changed };
  });
}

export interface DeclareOptions {
  /**
   * How long a declaration keeps trying while JetStream answers that it is temporarily
   * unavailable (a cluster electing a leader after a node restarted) or does not answer
   * in time (default 60 s); then the error is the caller's.
   */
  transientRetryMs?: number;
  /** Told of each transient failure before the next try. */
  onRetry?: (target: string, error: unknown, delayMs: number) => void;
}

/** One declaration: a round more after a lost creation race, and retries with backoff while JetStream is briefly unavailable. */
async function declaring(target: string, options: DeclareOptions, attempt: () => Promise<DeclarationResult>): Promise<DeclarationResult> {
  const deadline = Date.now() + (options.transientRetryMs ?? 60_000);
  let raced = 0;
  let delay = 100;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (raced + 1 < ROUNDS && isAlreadyInUse(error)) {
        raced++;
        continue;
      }
      if (isTransientJetStreamError(error) && Date.now() + delay <= deadline) {
        options.onRetry?.(target, error, delay);
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay = Math.min(delay * 2, 2_000);
        continue;
      }
      throw new DeclarationError(target, { cause: error });
    }
  }
}

/**
 * JetStream answers 503 ("JetStream system temporarily unavailable", 10008) while a clustered
 * stream or its meta group has no leader, and an API request can time out or find no
 * responder meanwhile: all pass once the cluster has settled.
 */
export function isTransientJetStreamError(error: unknown): boolean {
  if (error instanceof JetStreamApiError) return error.status === 503 || error.code === 10008;
  const name = (error as { name?: unknown } | undefined)?.name;
  const message = error instanceof Error ? error.message : '';
  return name === 'TimeoutError' || name === 'NoRespondersError' || /timeout|no responders/i.test(message);
}

async function findStream(jsm: JetStreamManager, name: string): Promise<StreamInfo | undefined> {
  try {
    return await jsm.streams.info(name);
  } catch (error) {
    if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound) return undefined;
    throw error;
  }
}

async function findConsumer(jsm: JetStreamManager, stream: string, name: string): Promise<ConsumerInfo | undefined> {
  try {
    return await jsm.consumers.info(stream, name);
  } catch (error) {
    if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.ConsumerNotFound) return undefined;
    throw error;
  }
}

// 10058: stream name already in use with a different configuration; 10148: consumer
// already exists (servers 2.10+). Both mean "someone created it meanwhile".
function isAlreadyInUse(error: unknown): boolean {
  return error instanceof JetStreamApiError && (error.code === 10058 || error.code === 10148);
}

/** The declared keys whose values differ from the server's (keys the code does not declare are left alone). */
export function differingKeys(declared: object, actual: object, ignore: readonly string[] = []): string[] {
  const server = actual as Record<string, unknown>;
  return Object.entries(declared)
    .filter(([key, value]) => value !== undefined && !ignore.includes(key) && !deepEqual(value, server[key]))
    .map(([key]) => key)
    .sort();
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(ra), ...Object.keys(rb)]);
  return [...keys].every((k) => deepEqual(ra[k], rb[k]));
}
