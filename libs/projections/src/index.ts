export { startProjector, startProjectorGroup, type ProjectionDefinition, type RunningProjector, type ProjectorOptions, type ProjectorGroupOptions } from './projector';
export { CheckpointTable, compareCheckpoints } from './checkpoints';
