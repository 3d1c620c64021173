export {
  startProjector,
  startProjectorGroup,
  ProjectionStalledError,
  type ProjectionDefinition,
  type RunningProjector,
  type ProjectorOptions,
  type ProjectorGroupOptions,
  type ProjectorLogger,
} from './projector';
export { CheckpointTable, compareCheckpoints } from './checkpoints';
export { stallMessage } from './member';
export { isTransientDbError } from './transient';
export { readControl, emptyControl, type ControlState } from './control';
