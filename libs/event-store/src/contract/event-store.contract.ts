/**
 * The event store contract: one suite every adapter must pass. Call it from an adapter's
 * integration test with a factory of stores on that adapter's (fresh) test storage.
 */
import { afterAll, beforeAll, describe } from 'vitest';
import type { EventStore } from '../types';
import { describeAppendContract } from './append.contract';
import type { EventStoreContractCapabilities, MakeStore } from './capabilities';
import { describeConcurrencyContract } from './concurrency.contract';
import { describeGlobalLogContract } from './global-log.contract';
import { describeInterleavingContract } from './interleavings.contract';

const SEPARATE_WRITERS = 8;

export function describeEventStoreContract(name: string, makeStore: MakeStore, capabilities: EventStoreContractCapabilities = {}): void {
  describe(`EventStore contract: ${name}`, () => {
    let main: EventStore | undefined;
    let reading: EventStore | undefined;
    let separate: EventStore[] = [];
    const opened: EventStore[] = [];
    const open = async () => {
      const store = await makeStore();
      opened.push(store);
      return store;
    };

    beforeAll(async () => {
      main = await open();
      reading = await open();
      separate = await Promise.all(Array.from({ length: SEPARATE_WRITERS }, open));
      // Open a connection in every writer now, so concurrent tests start together.
      await Promise.all(separate.map((s) => s.streamVersion('warm-up')));
    });
    afterAll(async () => {
      await Promise.all(opened.map((s) => s.close()));
    });

    const store = () => main!;
    const reader = () => reading!;
    describeAppendContract(store);
    describeGlobalLogContract(store, reader);
    describeConcurrencyContract(store, () => separate, reader);
    describeInterleavingContract(store, reader, capabilities);
  });
}
