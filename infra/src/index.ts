export { startLocalInfrastructure, type LocalInfrastructure, type ServiceDatabase } from './local';
export { discoverServices, portVariable, REPLICA_PORT_STEP, servicePorts, servicePortsSchema, SERVICE_PORTS, type DiscoverOptions, type ServiceEntry } from './services';
export { Supervisor, stopLeftoverChildren, type SupervisedProcess } from './supervisor';
export { startConfigSchema, type StartConfig } from './start-config';
export { probeReadiness, watchReadiness, type ReadinessTarget } from './readiness';
export { dbBootstrapConfigSchema, type DbBootstrapConfig } from './db-bootstrap-config';
export {
  DATABASE_ROLES, EVENT_STORE_OWNER, EVENT_STORE_SCHEMA, OPERATOR_CLI_ROLE, databaseRoleOf, grantsMarkdown, type DatabaseRoleGrant, type EventStoreAccess,
  bootstrapDatabase, ensureDatabaseRoles, scramVerifier,
  localDatabaseUrl,
  localPassword,
  ensureLocalPasswords,
  passwordFileOf,
  passwordsDir,
  LOCAL_ADMIN_ROLE,
  LOCAL_DATABASE,
  LOCAL_PG_PORT,
  type LocalDatabase,
  type LocalDatabaseOptions,
} from '@fairlead/local-servers';
export { ensureBusCredentials, natsAuthorizationConfig, natsTlsConfig, writeNatsServerConfig, bootstrapBus, busIdentityOfService, type BusCredentials, type TlsServerFiles } from '@fairlead/local-servers';
