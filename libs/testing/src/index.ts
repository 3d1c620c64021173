export { createTestDatabase, serverDatabaseUrl, serviceDatabaseEnv, type TestDatabase, type TestDatabaseOptions } from './database';
export { testNatsUrl, testNamespace, testNatsConnection, testSeed, testSeedFile, startPrivateNats, startPrivateNatsCluster } from './nats';
export { startServiceProcess, startServiceProcesses, READY_TIMEOUT_MS, SETUP_TIMEOUT_MS, type ServiceProcess, type ServiceProcessOptions } from './processes';
export { waitFor } from './wait';
export { parseMetrics, findSeries, metricValue, scrapeMetrics, type Series } from './prometheus';
export { expectProblem, type InjectedResponse } from './problems';
