export * from './errors';
export * from './names';
export * from './ticket';
export * from './project';
export * from './worker';
export * from './template-distribution';
export * from './deciders';
export type { Decider } from './given-when-then';
