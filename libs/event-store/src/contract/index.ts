export { describeEventStoreContract } from './event-store.contract';
export type { EventStoreContractCapabilities, MakeStore, OpenTransaction } from './capabilities';
