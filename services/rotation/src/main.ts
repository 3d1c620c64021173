/**
 * The rotation process: `tsx services/rotation/src/main.ts`. Reads its environment,
 * connects to PostgreSQL and NATS, runs migrations, serves the rotation commands and the
 * health endpoints, and shuts down gracefully on SIGTERM/SIGINT.
 */
import { loadConfig } from '@fairlead/platform';
import { openServiceRuntime, serveService } from '@fairlead/platform/runtime';
import { rotationConfigSchema } from './config';
import { rotationHttp } from './http/surface';
import { startRotationService } from './service';

const config = loadConfig(rotationConfigSchema);
const runtime = await openServiceRuntime(config);
const { pool, store, nc, subjects, logger, registry } = runtime;

const service = await startRotationService({ pool, store, nc, subjects, logger, registry, config: { autoDistributeDefault: config.AUTO_DISTRIBUTE_DEFAULT } });

await serveService(config, runtime, { service, ...rotationHttp });
