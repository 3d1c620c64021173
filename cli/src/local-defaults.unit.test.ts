import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { localDatabaseUrl, localDataDir, localJwtSecretFile, localOperatorApiUrl } from './local-defaults';
import { REPO_ROOT } from './paths';

describe('the defaults that find the local npm start system', () => {
  it('without any variable: .data of the repository, PostgreSQL on 54329, the operator API on 7100', () => {
    expect(localDataDir({})).toBe(resolve(REPO_ROOT, '.data'));
    expect(localDatabaseUrl({})).toEqual({ url: 'postgres://fairlead_operator_cli@127.0.0.1:54329/fairlead', passwordFile: resolve(REPO_ROOT, '.data', 'auth', 'postgres', 'fairlead_operator_cli.password') });
    expect(localDatabaseUrl({}, 'ticket-workflow').url).toBe('postgres://fairlead_ticket_workflow@127.0.0.1:54329/fairlead');
    expect(localOperatorApiUrl({})).toBe('http://127.0.0.1:7100');
    expect(localJwtSecretFile({})).toBe(resolve(REPO_ROOT, '.data', 'auth', 'jwt-secret'));
  });

  it("follow the variables that move npm start's servers", () => {
    expect(localDataDir({ FAIRLEAD_DATA_DIR: '/srv/fairlead' })).toBe('/srv/fairlead');
    expect(localJwtSecretFile({ FAIRLEAD_DATA_DIR: '/srv/fairlead' })).toBe('/srv/fairlead/auth/jwt-secret');
    expect(localJwtSecretFile({ FAIRLEAD_DATA_DIR: '/srv/fairlead', JWT_SECRET_FILE: '/etc/fairlead/secret' })).toBe('/etc/fairlead/secret');
    expect(localDatabaseUrl({ FAIRLEAD_PG_PORT: '55331' }).url).toContain('@127.0.0.1:55331/');
    expect(localDatabaseUrl({ FAIRLEAD_DATA_DIR: '/srv/fairlead' }).passwordFile).toBe('/srv/fairlead/auth/postgres/fairlead_operator_cli.password');
    expect(localOperatorApiUrl({ FAIRLEAD_HTTP_PORT_BASE: '17100' })).toBe('http://127.0.0.1:17100');
    expect(localOperatorApiUrl({ FAIRLEAD_OPERATOR_API_PORT: '18000' })).toBe('http://127.0.0.1:18000');
  });

  it('refuse a malformed port with the variable named', () => {
    expect(() => localDatabaseUrl({ FAIRLEAD_PG_PORT: '80' })).toThrow(/FAIRLEAD_PG_PORT/);
    expect(() => localOperatorApiUrl({ FAIRLEAD_HTTP_PORT_BASE: 'x' })).toThrow(/FAIRLEAD_HTTP_PORT_BASE/);
  });
});
