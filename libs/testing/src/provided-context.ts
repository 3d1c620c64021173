/**
 * What the global setup provides to every test file through vitest's inject(). Imported
 * by the modules that provide or inject it, so that any project typechecking one of them
 * (each has its own tsconfig.json) sees the declaration.
 */
declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    natsUrl: string;
    /**
     * The directory of the service roles' password files (libs/local-servers' database-credentials:
     * `<dir>/auth/postgres/<role>.password`), or '' when the run's server could not be
     * given the roles (a DATABASE_URL whose user may not create roles).
     */
    databaseRolesDir: string;
    /** Seeds of every bus identity for this run (`<identity>.nk`) and the route password. */
    natsCredentialsDir: string;
    /** The test server's authorization configuration, for servers a test starts itself. */
    natsServerConfig: string;
  }
}

export {};
