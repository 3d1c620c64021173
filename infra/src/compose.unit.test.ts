/**
 * docker-compose.yml cannot be run here (no container engine), so it is kept correct by
 * reading it as compose does (YAML merge keys, interpolation from deploy/compose.env) and
 * loading each Fairlead service's configuration schema with exactly the environment
 * compose gives it: a production secret left out, a variable no service reads, a port
 * published to the network or a dashboard of metrics nobody serves fails here.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseEnv } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { busIdentityOfService, databaseRoleOf } from '@fairlead/local-servers/deployment';
import { publicKeyOfSeed } from '@fairlead/messaging';
import { describeConfig, loadConfig } from '@fairlead/platform';
import { IMAGE_TOOLS } from './build/bundle';
import { COMPOSE_VARIABLES, fillComposeEnv, renderComposeEnvExample } from './deploy/compose-env';
import { commandOf, dependenciesOf, environmentOf, interpolationsIn, mountsOf, resolveCompose, type ComposeService } from './deploy/compose-file';
import { promqlMetricNames, registeredSeriesNames } from './deploy/metric-names';
import { NATS_CONFIG_DIR, NATS_CONFIG_FILE, OPERATOR_CLI_SECRETS, PASSWORD_FILE_NAME, prepareBusSecrets, SECRETS_ROOT, SEED_FILE_NAME, serviceSecretsSubpath, SERVICE_DATABASE_ROLES } from './deploy/secrets';
import { SERVICE_CONFIG_SCHEMAS } from '../../tests/contracts/env-example';
import { discoverServices, SERVICE_PORTS } from './services';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const read = (path: string) => readFileSync(resolve(repoRoot, path), 'utf8');

/** Each Fairlead service's configuration schema, by its name in services/ (and in docker-compose.yml). */
const SCHEMAS = SERVICE_CONFIG_SCHEMAS;

/** What a user reaches from the host, by compose service and container port; everything else stays inside. */
const PUBLISHED: Readonly<Record<string, number>> = { 'operator-api': 7100, intake: 7101, 'ticket-workflow': 7106, grafana: 3000, prometheus: 9090, mailpit: 8025 };

const composeText = read('docker-compose.yml');
const exampleText = read('deploy/compose.env.example');
/** deploy/compose.env as `npm run compose:env` makes it: the example with fresh secrets. */
const filledEnv = parseEnv(fillComposeEnv(exampleText)) as Record<string, string>;
const { compose, missing } = resolveCompose(composeText, filledEnv);
const services = Object.entries(compose.services);
/** The compose services that run a Fairlead service: `node … dist/<service>/main.js`. */
const fairlead = services.filter(([name]) => name in SCHEMAS);

const variablesOf = (schema: unknown) => describeConfig(schema as Parameters<typeof describeConfig>[0]).map((v) => v.name);
const secretNames = COMPOSE_VARIABLES.filter((v) => v.secret).map((v) => v.name);

describe('deploy/compose.env.example and docker-compose.yml', () => {
  it('is what compose-env.ts makes (npm run compose:env -- --example after changing it)', () => {
    expect(exampleText).toBe(renderComposeEnvExample());
  });

  it('name the same variables: secrets required with ${NAME:?…}, settings with ${NAME:-<the default shown>}', () => {
    const used = interpolationsIn(composeText);
    expect([...new Set(used.map((i) => i.name))].sort()).toEqual(COMPOSE_VARIABLES.map((v) => v.name).sort());
    for (const variable of COMPOSE_VARIABLES) {
      for (const use of used.filter((i) => i.name === variable.name)) {
        if (variable.secret) expect({ name: use.name, operator: use.operator }).toEqual({ name: variable.name, operator: ':?' });
        else expect({ name: use.name, operator: use.operator, argument: use.argument }).toEqual({ name: variable.name, operator: ':-', argument: variable.default });
      }
    }
  });

  it('refuse to start with the example as it is: every secret must be filled in', () => {
    const asIs = resolveCompose(composeText, parseEnv(exampleText) as Record<string, string>);
    expect(asIs.missing).toEqual([...secretNames].sort());
    expect(missing).toEqual([]);
  });

  it('keep deploy/compose.env (the filled copy) out of git and out of the image', () => {
    expect(read('.gitignore').split('\n')).toContain('deploy/compose.env');
    expect(read('.dockerignore').split('\n')).toContain('deploy');
  });
});

describe('docker-compose.yml gives each Fairlead service a configuration it starts with', () => {
  it('runs every service npm start knows, and only those, from the production build', () => {
    expect(fairlead.map(([name]) => name).sort()).toEqual(Object.keys(SERVICE_PORTS).sort());
    const known = discoverServices(repoRoot, {}).map((s) => s.name);
    for (const [name, service] of fairlead) {
      expect(commandOf(service), name).toEqual(['node', '--enable-source-maps', `dist/${name}/main.js`]);
      // npm run build (the Dockerfile's build stage) makes dist/<service>/main.js of each service under services/.
      expect(known, name).toContain(name);
      expect(service.image, name).toBe('fairlead:local');
      expect(service.build, name).toEqual({ context: '.', dockerfile: 'Dockerfile' });
    }
  });

  it('loads each configuration schema with exactly the environment compose gives, in production', () => {
    for (const [name, service] of fairlead) {
      const env = environmentOf(service);
      expect({ name, NODE_ENV: env.NODE_ENV }).toEqual({ name, NODE_ENV: 'production' });
      // The service's own loader: a refusal here is the service refusing to start (and restarting forever).
      const config = loadConfig(SCHEMAS[name]!, env) as Record<string, unknown>;
      expect({ name, SERVICE_NAME: config.SERVICE_NAME, HTTP_PORT: config.HTTP_PORT, HTTP_HOST: config.HTTP_HOST }).toEqual({
        name,
        SERVICE_NAME: name,
        HTTP_PORT: SERVICE_PORTS[name],
        HTTP_HOST: '0.0.0.0',
      });
    }
  });

  it('gives a service only variables its schema reads (no EVENTSTORE_URL or other leftovers)', () => {
    for (const [name, service] of fairlead) {
      const read = new Set(variablesOf(SCHEMAS[name]));
      const unread = Object.keys(environmentOf(service)).filter((v) => !read.has(v));
      expect({ name, unread }).toEqual({ name, unread: [] });
    }
    expect(composeText).not.toMatch(/eventstore|EVENTSTORE_URL|esdb:/i);
  });

  it('gives a service each secret only where it needs it: without it, the service refuses to start', () => {
    const secretValues = new Set(secretNames.map((n) => filledEnv[n]));
    let checked = 0;
    for (const [name, service] of fairlead) {
      const env = environmentOf(service);
      for (const [variable, value] of Object.entries(env)) {
        if (!secretValues.has(value)) continue;
        const { [variable]: _left, ...without } = env;
        expect(() => loadConfig(SCHEMAS[name]!, without), `${name} starts without ${variable}: do not give it`).toThrow();
        checked++;
      }
    }
    // JWT_SECRET of operator-api, intake, notification and ticket-workflow; intake's UPSTREAM_API_KEYS; ticket-workflow's MCP_TOKEN.
    expect(checked).toBe(6);
  });

  it('points DATABASE_URL, NATS_URL and SMTP_URL at compose services it waits for', () => {
    const postgres = environmentOf(compose.services.postgres!);
    for (const [name, service] of fairlead) {
      const env = environmentOf(service);
      const deps = dependenciesOf(service);
      const db = new URL(env.DATABASE_URL!);
      // Its own role (libs/local-servers/src/database-roles.ts), the password in a file (see the credentials below).
      expect({ name, host: db.hostname, user: db.username, password: db.password, database: db.pathname }).toEqual({
        name,
        host: 'postgres',
        user: databaseRoleOf(name),
        password: '',
        database: `/${postgres.POSTGRES_DB}`,
      });
      for (const variable of ['DATABASE_URL', 'NATS_URL', 'SMTP_URL']) {
        if (env[variable] === undefined) continue;
        const host = new URL(env[variable]).hostname;
        expect(compose.services[host], `${name} ${variable}`).toBeDefined();
        expect(deps[host], `${name} waits for ${host}`).toBe('service_healthy');
      }
      expect(deps['fairlead-init'], name).toBe('service_completed_successfully');
      expect(deps['fairlead-bootstrap'], name).toBe('service_completed_successfully');
    }
    // Only ticket-workflow does without NATS (the relay publishes its events).
    expect(fairlead.filter(([, s]) => environmentOf(s).NATS_URL === undefined).map(([n]) => n)).toEqual(['ticket-workflow']);
  });

  it('gives ticket-workflow template and project roots that fairlead-init prepares on a volume both mount', () => {
    const init = compose.services['fairlead-init']!;
    const workflow = compose.services['ticket-workflow']!;
    const command = commandOf(init);
    expect(command.slice(0, 2)).toEqual(['node', 'dist/fairlead-init/main.js']);
    // npm run build (the Dockerfile's build stage) bundles it from this entry point.
    expect(existsSync(resolve(repoRoot, IMAGE_TOOLS['fairlead-init']!))).toBe(true);
    expect(init.restart).toBe('no');
    const env = environmentOf(workflow);
    expect(command.slice(2).sort()).toEqual([env.PROJECTS_ROOT, env.TEMPLATES_ROOT].sort());
    const mounts = (s: ComposeService) => (s.volumes ?? []).filter((v) => typeof v === 'string');
    for (const root of [env.TEMPLATES_ROOT!, env.PROJECTS_ROOT!]) {
      const volume = mounts(init).find((m) => root.startsWith(`${m.split(':')[1]}/`));
      expect(volume, root).toBeDefined();
      expect(mounts(workflow)).toContain(volume);
    }
    // The mount point belongs to the image's user, so that a new volume does too.
    expect(read('Dockerfile')).toMatch(/install -d -o node -g node -m 0700 \/var\/lib\/fairlead/);
  });
});

describe('docker-compose.yml publishes and runs no more than it must', () => {
  it('publishes only the operator API, intake, ticket-workflow, Grafana, Prometheus and Mailpit, on 127.0.0.1', () => {
    const published = services.filter(([, s]) => (s.ports ?? []).length > 0).map(([name]) => name);
    expect(published.sort()).toEqual(Object.keys(PUBLISHED).sort());
    for (const [name, service] of services) {
      for (const port of service.ports ?? []) {
        expect(typeof port, `${name}: short syntax only`).toBe('string');
        const [address, host, container, ...rest] = String(port).split(':');
        expect({ name, address, container, rest }).toEqual({ name, address: '127.0.0.1', container: String(PUBLISHED[name]), rest: [] });
        expect(Number(host)).toBeGreaterThan(0);
      }
    }
    expect(compose.services.nats?.ports).toBeUndefined();
    expect(compose.services.postgres?.ports).toBeUndefined();
  });

  it('runs no component that nothing uses: no EventStoreDB', () => {
    expect(services.map(([name]) => name).sort()).toEqual(
      [...Object.keys(SCHEMAS), 'fairlead-init', 'fairlead-credentials', 'fairlead-bootstrap', 'nats', 'postgres', 'mailpit', 'prometheus', 'grafana', OPERATOR_CLI_SECRETS.service].sort(),
    );
    // `up` starts everything but the operator's tool, which runs on demand (`docker compose run --rm fairlead …`).
    expect(services.filter(([, s]) => s.profiles !== undefined).map(([name]) => name)).toEqual([OPERATOR_CLI_SECRETS.service]);
    for (const [name, service] of services) expect(service.image ?? '', name).not.toMatch(/eventstore/i);
  });

  it('pins every image it pulls to a version', () => {
    for (const [name, service] of services.filter(([, s]) => s.build === undefined)) {
      // name:<version>, e.g. nats:2.10-alpine, axllent/mailpit:v1.27; never latest or untagged.
      expect(service.image, name).toMatch(/^[a-z0-9./-]+:v?\d[\w.-]*$/);
    }
  });

  it('checks the health of every long-running service; a Fairlead service is healthy when /readyz says ready', () => {
    for (const [name, service] of services.filter(([, s]) => s.restart !== 'no')) {
      expect(service.healthcheck?.test, `${name} has no healthcheck`).toBeDefined();
      expect(service.healthcheck?.disable).not.toBe(true);
    }
    for (const [name, service] of fairlead) {
      expect(commandOf({ command: service.healthcheck!.test as string[] }).join(' '), name).toMatch(/process\.env\.HTTP_PORT \+ '\/readyz'/);
    }
  });

  it('waits on conditions only: depends_on names services that exist, with a condition they can meet', () => {
    for (const [name, service] of services) {
      for (const [target, condition] of Object.entries(dependenciesOf(service))) {
        expect(compose.services[target], `${name} depends on unknown service ${target}`).toBeDefined();
        expect(['service_healthy', 'service_completed_successfully'], `${name} → ${target}`).toContain(condition);
        if (condition === 'service_healthy') expect(compose.services[target]?.healthcheck, `${target} has no healthcheck`).toBeDefined();
        if (condition === 'service_completed_successfully') expect(compose.services[target]?.restart, target).toBe('no');
      }
    }
  });

  it('enables JetStream on NATS, with its store on a volume', () => {
    const nats = compose.services.nats!;
    const command = commandOf(nats);
    expect(command).toContain('-js');
    const storeDir = command[command.indexOf('-sd') + 1];
    expect(mountsOf(nats).some((m) => m.target === storeDir && m.source === 'nats-data')).toBe(true);
  });

  it('mounts files that exist and volumes it declares, and declares no volume it does not mount', () => {
    const mounted = new Set<string>();
    for (const [name, service] of services) {
      for (const { source, readOnly } of mountsOf(service)) {
        if (source.startsWith('.') || source.startsWith('/')) {
          expect(existsSync(resolve(repoRoot, source)), `${name} mounts missing ${source}`).toBe(true);
          expect(readOnly, `${name} mounts ${source} writable`).toBe(true);
        } else {
          expect(compose.volumes ?? {}, `${name} mounts undeclared volume ${source}`).toHaveProperty(source);
          mounted.add(source);
        }
      }
    }
    expect(Object.keys(compose.volumes ?? {}).sort()).toEqual([...mounted].sort());
    const ignored = read('.dockerignore').split('\n');
    expect(ignored).toEqual(expect.arrayContaining(['**/node_modules', '.data', '.git']));
  });
});

describe('docker-compose.yml gives each service its own NATS and PostgreSQL credentials', () => {
  /** The secrets volume as fairlead-credentials fills it (the same code, run here on a temporary folder). */
  let volume: string;
  beforeAll(async () => {
    volume = await mkdtemp(join(tmpdir(), 'fairlead-compose-secrets-'));
    await prepareBusSecrets(volume);
  });
  afterAll(async () => {
    await rm(volume, { recursive: true, force: true });
  });

  const secretsMountOf = (service: ComposeService) => mountsOf(service).filter((m) => m.source === 'fairlead-secrets');
  /** Where a file a service is given lies in the secrets volume: its mount's subpath and the file's name. */
  const inVolume = (service: ComposeService, file: string) => {
    const [mount] = secretsMountOf(service).filter((m) => file.startsWith(`${m.target}/`));
    expect(mount, file).toBeDefined();
    return join(mount!.subpath ?? '', file.slice(mount!.target.length + 1));
  };

  it("mounts each service's own folder of the secrets volume, read-only, and nothing else of it", () => {
    for (const [name, service] of fairlead) {
      expect(secretsMountOf(service), name).toEqual([{ source: 'fairlead-secrets', target: '/run/fairlead', readOnly: true, subpath: serviceSecretsSubpath(name) }]);
    }
    const subpaths = fairlead.map(([, s]) => secretsMountOf(s)[0]!.subpath);
    expect(new Set(subpaths).size).toBe(fairlead.length);
    // Of the rest, only nats (its configuration folder), the two one-shots (the whole volume) and the operator's tool (its folder) mount it.
    const others = services.filter(([name, s]) => !(name in SCHEMAS) && secretsMountOf(s).length > 0).map(([name]) => name);
    expect(others.sort()).toEqual(['fairlead', 'fairlead-bootstrap', 'fairlead-credentials', 'nats']);
  });

  it("runs the operator's fairlead command on demand only, as the operator CLI's own role, with its own folder and no other secret", () => {
    const tool = compose.services[OPERATOR_CLI_SECRETS.service]!;
    // The bundle npm run build makes of the CLI (IMAGE_TOOLS), under plain node; `docker compose run --rm fairlead <command>` gives the command.
    expect(existsSync(resolve(repoRoot, IMAGE_TOOLS.fairlead!))).toBe(true);
    expect(tool.entrypoint).toEqual(['node', '--enable-source-maps', 'dist/fairlead/main.js']);
    expect(commandOf(tool)).toEqual(['--help']);
    expect({ profiles: tool.profiles, restart: tool.restart, image: tool.image, ports: tool.ports }).toEqual({ profiles: ['tools'], restart: 'no', image: 'fairlead:local', ports: undefined });
    const env = environmentOf(tool);
    const db = new URL(env.DATABASE_URL!);
    expect({ host: db.hostname, user: db.username, password: db.password }).toEqual({ host: 'postgres', user: OPERATOR_CLI_SECRETS.role, password: '' });
    expect(inVolume(tool, env.DATABASE_PASSWORD_FILE!)).toBe(join(serviceSecretsSubpath(OPERATOR_CLI_SECRETS.service), PASSWORD_FILE_NAME));
    expect(secretsMountOf(tool)).toEqual([{ source: 'fairlead-secrets', target: '/run/fairlead', readOnly: true, subpath: serviceSecretsSubpath(OPERATOR_CLI_SECRETS.service) }]);
    expect(new URL(env.FAIRLEAD_API_URL!).toString()).toBe(`http://operator-api:${SERVICE_PORTS['operator-api']}/`);
    // No bus identity, no token secret, no admin password: what it may do is its database role's.
    expect(Object.keys(env).sort()).toEqual(['DATABASE_PASSWORD_FILE', 'DATABASE_URL', 'FAIRLEAD_API_URL']);
    expect(dependenciesOf(tool)).toEqual({ 'fairlead-bootstrap': 'service_completed_successfully', postgres: 'service_healthy' });
    // The folder fairlead-credentials prepares for it (compose's subpath must exist), empty until fairlead-bootstrap gives it the password.
    expect(readdirSync(join(volume, serviceSecretsSubpath(OPERATOR_CLI_SECRETS.service)))).toEqual([]);
  });

  it('gives every NATS-using service the seed of its own bus identity, and ticket-workflow none', async () => {
    let checked = 0;
    for (const [name, service] of fairlead) {
      const env = environmentOf(service);
      const identity = busIdentityOfService(name);
      if (env.NATS_URL === undefined) {
        expect({ name, seed: env.NATS_NKEY_SEED_FILE, identity }).toEqual({ name, seed: undefined, identity: undefined });
        continue;
      }
      expect(identity, name).toBeDefined();
      const file = inVolume(service, env.NATS_NKEY_SEED_FILE!);
      expect(file).toBe(join(serviceSecretsSubpath(name), SEED_FILE_NAME));
      // The file fairlead-credentials writes there is that identity's seed.
      expect(readFileSync(join(volume, file), 'utf8'), name).toBe(readFileSync(join(volume, 'bus', `${identity}.nk`), 'utf8'));
      checked++;
    }
    expect(checked).toBe(fairlead.length - 1);
  });

  it("gives every service its own role's password file, which fairlead-bootstrap fills from that role's", () => {
    for (const [name, service] of fairlead) {
      const env = environmentOf(service);
      expect(inVolume(service, env.DATABASE_PASSWORD_FILE!), name).toBe(join(serviceSecretsSubpath(name), PASSWORD_FILE_NAME));
      expect(SERVICE_DATABASE_ROLES.find((r) => r.service === name)?.role, name).toBe(new URL(env.DATABASE_URL!).username);
    }
    expect(SERVICE_DATABASE_ROLES.map((r) => r.service).sort()).toEqual(Object.keys(SCHEMAS).sort());
  });

  it("gives no service an admin credential: not the bus's admin seed, not the postgres password", () => {
    const adminSeed = readFileSync(join(volume, 'bus', 'admin.nk'), 'utf8');
    for (const [name] of fairlead) {
      const folder = join(volume, serviceSecretsSubpath(name));
      const files = readdirSync(folder);
      expect(files.every((f) => [SEED_FILE_NAME, PASSWORD_FILE_NAME].includes(f)), `${name}: ${files.join(', ')}`).toBe(true);
      for (const f of files) expect(readFileSync(join(folder, f), 'utf8'), `${name}/${f}`).not.toBe(adminSeed);
    }
    // nats's folder holds the public keys only.
    expect(readdirSync(join(volume, NATS_CONFIG_DIR))).toEqual([NATS_CONFIG_FILE]);
    expect(readFileSync(join(volume, NATS_CONFIG_DIR, NATS_CONFIG_FILE), 'utf8')).not.toMatch(/SU[A-Z2-7]{56}/);
    for (const [name, service] of services.filter(([n]) => n !== 'postgres' && n !== 'fairlead-bootstrap')) {
      expect(JSON.stringify(environmentOf(service)), name).not.toContain(filledEnv.POSTGRES_PASSWORD);
    }
  });

  it('runs nats with the configuration fairlead-credentials renders, after it', () => {
    const nats = compose.services.nats!;
    const command = commandOf(nats);
    const config = command[command.indexOf('-c') + 1]!;
    expect(command).toContain('-c');
    const [mount] = secretsMountOf(nats);
    expect(mount).toEqual({ source: 'fairlead-secrets', target: dirname(config), readOnly: true, subpath: NATS_CONFIG_DIR });
    expect(basename(config)).toBe(NATS_CONFIG_FILE);
    expect(dependenciesOf(nats)['fairlead-credentials']).toBe('service_completed_successfully');
    // The admin and every service's identity are nkey users of it (by the public key of the seed each gets).
    const text = readFileSync(join(volume, NATS_CONFIG_DIR, NATS_CONFIG_FILE), 'utf8');
    const seedFiles = [join(volume, 'bus', 'admin.nk'), ...fairlead.filter(([n]) => busIdentityOfService(n)).map(([n]) => join(volume, serviceSecretsSubpath(n), SEED_FILE_NAME))];
    for (const file of seedFiles) expect(text, file).toContain(`nkey: "${publicKeyOfSeed(readFileSync(file, 'utf8').trim())}"`);
  });

  it('generates the credentials before nats, and bootstraps database and streams as admin before any service', () => {
    const credentials = compose.services['fairlead-credentials']!;
    const bootstrap = compose.services['fairlead-bootstrap']!;
    // npm run build (the Dockerfile's build stage) bundles it.
    expect(existsSync(resolve(repoRoot, IMAGE_TOOLS['fairlead-bootstrap']!))).toBe(true);
    expect(commandOf(credentials)).toEqual(['node', 'dist/fairlead-bootstrap/main.js', 'credentials', SECRETS_ROOT]);
    expect(commandOf(bootstrap)).toEqual(['node', 'dist/fairlead-bootstrap/main.js', 'servers', SECRETS_ROOT]);
    for (const oneShot of [credentials, bootstrap]) {
      expect(oneShot.restart).toBe('no');
      expect(mountsOf(oneShot)).toEqual([{ source: 'fairlead-secrets', target: SECRETS_ROOT, readOnly: false }]);
    }
    expect(dependenciesOf(bootstrap)).toEqual({ 'fairlead-credentials': 'service_completed_successfully', postgres: 'service_healthy', nats: 'service_healthy' });
    const postgres = environmentOf(compose.services.postgres!);
    const env = environmentOf(bootstrap);
    const admin = new URL(env.DATABASE_ADMIN_URL!);
    expect({ host: admin.hostname, user: admin.username, password: admin.password }).toEqual({ host: 'postgres', user: postgres.POSTGRES_USER, password: postgres.POSTGRES_PASSWORD });
    expect(new URL(env.NATS_URL!).hostname).toBe('nats');
    // The mount point is the service user's in the image, so that the new volume is too.
    expect(read('Dockerfile')).toMatch(new RegExp(`install -d -o node -g node -m 0700 [^\\n]*${SECRETS_ROOT}`));
  });
});

describe('Prometheus and Grafana in docker-compose.yml', () => {
  const mountOf = (service: string, target: string) =>
    (compose.services[service]?.volumes ?? []).map(String).find((v) => v.split(':')[1] === target)?.split(':')[0];

  it('scrapes every Fairlead service at its compose name and HTTP_PORT', () => {
    const file = mountOf('prometheus', '/etc/prometheus/prometheus.yml');
    expect(file).toBe('./deploy/prometheus/prometheus.yml');
    const config = parse(read(file!)) as { scrape_configs: Array<{ job_name: string; metrics_path?: string; static_configs: Array<{ targets: string[] }> }> };
    const job = config.scrape_configs.find((j) => j.job_name === 'fairlead')!;
    expect(job.metrics_path ?? '/metrics').toBe('/metrics');
    const targets = job.static_configs.flatMap((c) => c.targets).sort();
    expect(targets).toEqual(fairlead.map(([name, s]) => `${name}:${environmentOf(s).HTTP_PORT}`).sort());
  });

  it('provisions Grafana with the Prometheus of compose as its data source and the dashboards folder it mounts', () => {
    const provisioning = mountOf('grafana', '/etc/grafana/provisioning')!;
    const datasources = parse(read(`${provisioning}/datasources/prometheus.yml`)) as { datasources: Array<{ uid: string; type: string; url: string }> };
    expect(datasources.datasources).toEqual([expect.objectContaining({ uid: 'fairlead-prometheus', type: 'prometheus', url: 'http://prometheus:9090' })]);
    const providers = parse(read(`${provisioning}/dashboards/fairlead.yml`)) as { providers: Array<{ options: { path: string } }> };
    const dashboards = providers.providers[0]!.options.path;
    expect(mountOf('grafana', dashboards)).toBe('./deploy/grafana/dashboards');
    const home = environmentOf(compose.services.grafana!).GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH!;
    expect(existsSync(resolve(repoRoot, 'deploy/grafana/dashboards', home.slice(dashboards.length + 1)))).toBe(true);
    expect(environmentOf(compose.services.grafana!).GF_SECURITY_ADMIN_PASSWORD).toBe(filledEnv.GRAFANA_ADMIN_PASSWORD);
  });

  it("draws the distribution dashboard from metrics the services serve, through the provisioned data source", () => {
    const dashboard = JSON.parse(read('deploy/grafana/dashboards/fairlead-distribution.json')) as {
      panels: Array<{ type: string; title: string; datasource?: { uid: string }; targets?: Array<{ expr: string }> }>;
    };
    const served = registeredSeriesNames(repoRoot);
    // Prometheus's own series for each target.
    served.add('up');
    const graphs = dashboard.panels.filter((p) => p.type !== 'row');
    expect(graphs.length).toBeGreaterThan(10);
    const used = new Set<string>();
    for (const panel of graphs) {
      expect(panel.datasource?.uid, panel.title).toBe('fairlead-prometheus');
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const { expr } of panel.targets ?? []) {
        const names = promqlMetricNames(expr);
        expect(names.length, `${panel.title}: ${expr}`).toBeGreaterThan(0);
        for (const n of names) used.add(n);
        expect({ panel: panel.title, unknown: names.filter((n) => !served.has(n)) }).toEqual({ panel: panel.title, unknown: [] });
      }
    }
    // The distribution itself is on it.
    expect([...used]).toEqual(expect.arrayContaining(['intake_leads_approved_total', 'distribution_total', 'distribution_duration_ms_bucket', 'distribution_assignments_total', 'billing_charges_total']));
  });

  it('reads metric names from PromQL, and knows a misspelt one is not served', () => {
    expect(promqlMetricNames('histogram_quantile(0.95, sum by (le, service) (rate(distribution_duration_ms_bucket{status="a(b)"}[$__rate_interval])))')).toEqual([
      'distribution_duration_ms_bucket',
    ]);
    expect(promqlMetricNames('sum(rate(a_total[5m])) / on (x) group_left b_info and c offset 5m')).toEqual(['a_total', 'b_info', 'c']);
    const served = registeredSeriesNames(repoRoot);
    expect(served.has('distribution_total')).toBe(true);
    expect(served.has('distribution_totals')).toBe(false);
    expect(served.has('distribution_duration_ms_bucket')).toBe(true);
    expect(served.has('nodejs_eventloop_lag_seconds')).toBe(true);
  });
});
