export { startOperatorApi, type OperatorApi, type OperatorApiDeps, type OperatorApiConfig, type OperatorApiStore } from './service';
export { operatorApiConfigSchema, OPERATOR_PROJECTION_MIN_READ_INTERVAL_MS, type OperatorApiEnvConfig } from './config';
// Kept for existing importers; the auth itself lives in @fairlead/platform.
export { mintToken, ROLES, ACCESS_LEVELS, type MintTokenOptions, type Role, type Access, type Principal } from '@fairlead/platform';
export { PROJECTIONS, SCHEMA } from './projections/index';
export { ASSIGNMENTS_SETUP } from './projections/assignments/assignments.projection';
export { rebuild, type RebuildOptions, type RebuildResult, type Progress, type Until } from './replay/rebuild';
export { ServedHistory, type HistoryEvent, type HistoryRoundVerdict, type ServedMark } from './replay/served-history';
