export { freePort } from './ports';
export { startEmbeddedPostgres, ensureDatabase, type EmbeddedPostgresOptions, type RunningPostgres } from './postgres';
export { startNatsServer, ensureNatsServer, findNatsServer, type NatsServerOptions, type RunningNats } from './nats';
export { startNatsCluster, clusterNodeConfig, waitForJetStream, type NatsClusterOptions, type RunningNatsCluster, type ClusterNodeConfig } from './nats-cluster';
export { startLocalInfrastructure, type LocalInfrastructure, type ServiceDatabase } from './local';
export { discoverServices, portVariable, REPLICA_PORT_STEP, servicePorts, servicePortsSchema, SERVICE_PORTS, type DiscoverOptions, type ServiceEntry } from './services';
export { Supervisor, stopLeftoverChildren, type SupervisedProcess } from './supervisor';
export { startConfigSchema, type StartConfig } from './start-config';
export { probeReadiness, watchReadiness, type ReadinessTarget } from './readiness';
export { DATABASE_ROLES, EVENT_STORE_OWNER, EVENT_STORE_SCHEMA, OPERATOR_CLI_ROLE, databaseRoleOf, grantsMarkdown, type DatabaseRoleGrant, type EventStoreAccess } from './database-roles';
export { dbBootstrapConfigSchema, type DbBootstrapConfig } from './db-bootstrap-config';
export { bootstrapDatabase, ensureDatabaseRoles, scramVerifier } from './database-bootstrap';
export {
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
} from './database-credentials';
