/** The `fairlead` CLI as a library: its program (for tests and docs) and how it runs. */
export { buildProgram, allCommands, commandPath, PROGRAM } from './program';
export { runFairlead } from './run';
export { cliEnvSchema } from './cli-env';
export { EXIT, EXIT_CODES_HELP, CliError } from './exit-codes';
export { localDatabaseUrl, localDataDir, localJwtSecretFile, localOperatorApiUrl } from './local-defaults';
