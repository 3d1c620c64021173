export { startLocalInfrastructure, type LocalInfrastructure, type ServiceDatabase } from './local';
export { discoverServices, portVariable, REPLICA_PORT_STEP, servicePorts, servicePortsSchema, SERVICE_PORTS, type DiscoverOptions, type ServiceEntry } from './services';
export { Supervisor, stopLeftoverChildren, type SupervisedProcess } from './supervisor';
export { startConfigSchema, type StartConfig } from './start-config';
export { probeReadiness, watchReadiness, type ReadinessTarget } from './readiness';
export { dbBootstrapConfigSchema, type DbBootstrapConfig } from './db-bootstrap-config';
