export * from './common';
export * from './events';
export * from './commands';
