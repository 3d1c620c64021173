// The local servers below both `npm start` (infra) and the test runs (libs/testing):
// embedded PostgreSQL, nats-server and a local cluster of them, a free port to put them on,
// and the database's roles and grants with their locally generated passwords.
export { freePort } from './ports';
export { startEmbeddedPostgres, ensureDatabase, type EmbeddedPostgresOptions, type RunningPostgres } from './postgres';
export { startNatsServer, ensureNatsServer, findNatsServer, type NatsServerOptions, type RunningNats } from './nats';
export { startNatsCluster, clusterNodeConfig, waitForJetStream, type NatsClusterOptions, type RunningNatsCluster, type ClusterNodeConfig } from './nats-cluster';
export { DATABASE_ROLES, EVENT_STORE_OWNER, EVENT_STORE_SCHEMA, OPERATOR_CLI_ROLE, databaseRoleOf, grantsMarkdown, type DatabaseRoleGrant, type EventStoreAccess } from './database-roles';
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
export { ensureBusCredentials, natsAuthorizationConfig, natsTlsConfig, writeNatsServerConfig, bootstrapBus, busIdentityOfService, type BusCredentials, type TlsServerFiles } from './nats-auth';
