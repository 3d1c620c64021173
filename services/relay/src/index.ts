export { startRelay, RELAY_DEFAULT_BATCH_SIZE, RELAY_DEFAULT_CHECKPOINT_INTERVAL_MS, type RelayOptions, type RunningRelay, type RelayStatus } from './relay';
export { acquireLeadership, type Leadership } from './leadership';
export { toOutgoingMessage, type OutgoingMessage } from './envelope';
export { relayHttp, type RelayStatusSource } from './http';
export { relayConfigSchema, type RelayEnvConfig } from './config';
export { serveRelayCommands, redriveMsgId, REDRIVE_HEADERS, type RelayCommandsOptions } from './republish';
