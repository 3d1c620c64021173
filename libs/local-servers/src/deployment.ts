// What a deployment's one-shot bootstrap needs from this library (docker-compose.yml's
// fairlead-bootstrap, bundled into the image): the bus credentials and the database roles,
// without the embedded servers of the index (their packages are not in the image).
export { DATABASE_ROLES, OPERATOR_CLI_ROLE, databaseRoleOf, type DatabaseRoleGrant } from './database-roles';
export { bootstrapDatabase, ensureDatabaseRoles } from './database-bootstrap';
export { ensureBusCredentials, writeNatsServerConfig, bootstrapBus, busIdentityOfService, type BusCredentials } from './nats-auth';
