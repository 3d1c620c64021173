export { openTestEnvironment, type ServiceInstanceParts, type TestEnvironment, type TestEnvironmentOptions } from './environment';
