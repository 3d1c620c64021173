export { createTestDatabase, serverDatabaseUrl, type TestDatabase } from './database';
export { testNatsUrl, testNamespace, startPrivateNats } from './nats';
export { waitFor } from './wait';
