// The local servers below both `npm start` (infra) and the test runs (libs/testing):
// embedded PostgreSQL, nats-server and a local cluster of them, and a free port to put them on.
export { freePort } from './ports';
export { startEmbeddedPostgres, ensureDatabase, type EmbeddedPostgresOptions, type RunningPostgres } from './postgres';
export { startNatsServer, ensureNatsServer, findNatsServer, type NatsServerOptions, type RunningNats } from './nats';
export { startNatsCluster, clusterNodeConfig, waitForJetStream, type NatsClusterOptions, type RunningNatsCluster, type ClusterNodeConfig } from './nats-cluster';
