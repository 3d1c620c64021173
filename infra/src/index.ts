export { freePort } from './ports';
export { startEmbeddedPostgres, ensureDatabase, type EmbeddedPostgresOptions, type RunningPostgres } from './postgres';
export { startNatsServer, ensureNatsServer, findNatsServer, type NatsServerOptions, type RunningNats } from './nats';
export { startLocalInfrastructure, type LocalInfrastructure } from './local';
export { discoverServices, portVariable, servicePorts, servicePortsSchema, SERVICE_PORTS, type ServiceEntry } from './services';
export { Supervisor, type SupervisedProcess } from './supervisor';
export { startConfigSchema, type StartConfig } from './start-config';
