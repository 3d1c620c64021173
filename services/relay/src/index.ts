export { startRelay, RELAY_DEFAULT_BATCH_SIZE, type RelayOptions, type RunningRelay, type RelayStatus } from './relay';
export { acquireLeadership, type Leadership } from './leadership';
export { toOutgoingMessage, type OutgoingMessage } from './envelope';
