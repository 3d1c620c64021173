/** The shared wiring of service processes (a separate entry: it loads pg, NATS and the event store). */
export { openServiceRuntime, serveService, type ServiceRuntime, type ServeOptions } from './service-runtime';
