/**
 * `npm run dev`: `npm start` with every service under `node --watch`, so that a saved
 * change to a service or a library it imports restarts that service (the infrastructure
 * and the other services keep running).
 */
process.env.FAIRLEAD_WATCH = 'true';
await import('./start');

export {};
