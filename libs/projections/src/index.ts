export { startProjector, type ProjectionDefinition, type RunningProjector, type ProjectorOptions } from './projector';
export { CheckpointTable, compareCheckpoints } from './checkpoints';
