import { JetStreamApiCodes, JetStreamApiError, type JetStreamManager } from '@nats-io/jetstream';
import { describe, expect, it } from 'vitest';
import { DeclarationError, declareConsumer, differingKeys } from './declarations';

describe('differingKeys', () => {
  it('compares only the declared keys, deeply', () => {
    const server = { name: 'S', subjects: ['a.>', 'b'], max_age: 0, duplicate_window: 120e9, storage: 'file', max_msgs: -1 };
    expect(differingKeys({ name: 'S', subjects: ['a.>', 'b'], duplicate_window: 120e9 }, server, ['name'])).toEqual([]);
    expect(differingKeys({ subjects: ['a.>'], duplicate_window: 300e9, storage: 'file' }, server)).toEqual(['duplicate_window', 'subjects']);
  });

  it('ignores keys declared as undefined', () => {
    expect(differingKeys({ description: undefined }, { description: 'x' })).toEqual([]);
  });
});

describe('declareConsumer while JetStream is briefly unavailable', () => {
  const unavailable = () => new JetStreamApiError({ code: 503, err_code: 10008, description: 'JetStream system temporarily unavailable' });
  /** A manager whose consumer lookups fail `failures` times with `error`, then find nothing; adds succeed. */
  const manager = (failures: number, error: () => Error) => {
    let lookups = 0;
    const added: string[] = [];
    const jsm = {
      consumers: {
        info: async () => {
          lookups++;
          if (lookups <= failures) throw error();
          throw new JetStreamApiError({ code: 404, err_code: JetStreamApiCodes.ConsumerNotFound, description: 'consumer not found' });
        },
        add: async (_stream: string, config: { durable_name: string }) => void added.push(config.durable_name),
      },
    } as unknown as JetStreamManager;
    return { jsm, added, lookups: () => lookups };
  };
  const declaration = { stream: 'S', config: { durable_name: 'd' } };

  it('retries with backoff, saying so each time, and then declares', async () => {
    const { jsm, added, lookups } = manager(3, unavailable);
    const retries: number[] = [];
    const result = await declareConsumer(jsm, declaration, { onRetry: (_t, _e, delay) => void retries.push(delay) });
    expect(result).toEqual({ name: 'd', action: 'created', changed: [] });
    expect(added).toEqual(['d']);
    expect(lookups()).toBe(4);
    expect(retries).toEqual([100, 200, 400]);
  });

  it('gives up with the cause once its retry time is spent', async () => {
    const { jsm } = manager(1_000, unavailable);
    const error = await declareConsumer(jsm, declaration, { transientRetryMs: 350 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeclarationError);
    expect((error as Error).message).toMatch(/temporarily unavailable/);
  });

  it('does not retry a refusal that retrying cannot change', async () => {
    const refused = () => new JetStreamApiError({ code: 400, err_code: 10012, description: 'consumer config invalid' });
    const { jsm, lookups } = manager(1, refused);
    await expect(declareConsumer(jsm, declaration)).rejects.toBeInstanceOf(DeclarationError);
    expect(lookups()).toBe(1);
  });
});
