export { startOperatorApi, type OperatorApi, type OperatorApiDeps, type OperatorApiConfig } from './service';
export { operatorApiConfigSchema, type OperatorApiEnvConfig } from './config';
export { mintToken, type MintTokenOptions } from './auth/mint-token';
export { ROLES, ACCESS_LEVELS, type Role, type Access, type Principal } from './auth/access';
export { PROJECTIONS, SCHEMA } from './projections/index';
export { ASSIGNMENTS_SETUP } from './projections/assignments/assignments.projection';
