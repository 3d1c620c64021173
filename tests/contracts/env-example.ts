/**
 * `.env.example`, made from the configuration schemas: every variable `npm start` and the
 * services read, with its default and meaning (the schemas' `.describe()` texts).
 * `npm run env:example` writes it; env-example.unit.test.ts fails when it is stale or when
 * a variable has no description.
 */
import type { z } from 'zod';
import { billingConfigSchema } from '@fairlead/billing';
import { cliEnvSchema } from '@fairlead/cli';
import { fairnessConfigSchema } from '@fairlead/fairness';
import { dbBootstrapConfigSchema, startConfigSchema } from '@fairlead/infra';
import { intakeConfigSchema } from '@fairlead/intake';
import { notificationConfigSchema } from '@fairlead/notification';
import { operatorApiConfigSchema } from '@fairlead/operator-api';
import { baseConfigSchema, describeConfig, jwtConfigSchema, telemetryEnvSchema, type ConfigVariable } from '@fairlead/platform';
import { relayConfigSchema } from '@fairlead/relay';
import { rotationConfigSchema } from '@fairlead/rotation';
import { ticketWorkflowConfigSchema } from '@fairlead/ticket-workflow';

/** Every service's configuration schema, by its name in services/. */
export const SERVICE_CONFIG_SCHEMAS: Readonly<Record<string, z.ZodObject>> = {
  'operator-api': operatorApiConfigSchema,
  intake: intakeConfigSchema,
  rotation: rotationConfigSchema,
  fairness: fairnessConfigSchema,
  billing: billingConfigSchema,
  notification: notificationConfigSchema,
  'ticket-workflow': ticketWorkflowConfigSchema,
  relay: relayConfigSchema,
};

interface Section {
  title: string;
  note: string;
  variables: ConfigVariable[];
}

const key = (v: ConfigVariable) => `${v.name}\u0000${v.default ?? ''}\u0000${v.required}\u0000${v.description ?? ''}`;

/** The sections of the file: npm start, what every service reads, then what each service adds. */
export function envSections(): Section[] {
  const shared = [...describeConfig(baseConfigSchema), ...describeConfig(jwtConfigSchema)];
  const sharedKeys = new Set(shared.map(key));
  const sections: Section[] = [
    {
      title: 'npm start',
      note: 'The local bootstrap: embedded PostgreSQL and nats-server under FAIRLEAD_DATA_DIR, then every service. It gives each service DATABASE_URL, NATS_URL, SERVICE_NAME and HTTP_PORT.',
      variables: describeConfig(startConfigSchema),
    },
    { title: 'every service', note: 'Read by each service process (docker, systemd, node dist/…).', variables: describeConfig(baseConfigSchema) },
    { title: 'operator-facing APIs (operator-api, ticket-workflow)', note: 'Bearer tokens: one secret (or JWKS), issuer and audience, so a token opens both.', variables: describeConfig(jwtConfigSchema) },
    {
      title: 'database bootstrap (npm run db:bootstrap)',
      note: "A deployment's roles, schemas and grants (docs/security.md#database); npm start does this itself for its embedded PostgreSQL.",
      variables: describeConfig(dbBootstrapConfigSchema),
    },
    { title: 'tracing (every service)', note: 'OpenTelemetry, off unless one of these asks for it (docs/telemetry.md).', variables: describeConfig(telemetryEnvSchema) },
  ];
  for (const [service, schema] of Object.entries(SERVICE_CONFIG_SCHEMAS)) {
    // What the service reads beyond the shared variables, or reads with another default.
    // SERVICE_NAME and HTTP_PORT default to the service's own (README: Services; npm start sets both).
    const own = describeConfig(schema).filter((v) => !sharedKeys.has(key(v)) && v.name !== 'SERVICE_NAME' && v.name !== 'HTTP_PORT');
    if (own.length > 0) sections.push({ title: service, note: `What the ${service} service reads besides the variables above.`, variables: own });
  }
  sections.push({ title: 'fairlead CLI', note: 'The `fairlead` command reads the variables above that locate the system (DATABASE_URL, FAIRLEAD_PG_PORT, the ports, JWT_*), and these.', variables: describeConfig(cliEnvSchema) });
  return sections;
}

/** Every variable name of every schema, once. */
export function allConfigVariables(): ConfigVariable[] {
  const seen = new Map<string, ConfigVariable>();
  for (const section of envSections()) for (const v of section.variables) if (!seen.has(v.name)) seen.set(v.name, v);
  for (const schema of Object.values(SERVICE_CONFIG_SCHEMAS)) for (const v of describeConfig(schema)) if (!seen.has(v.name)) seen.set(v.name, v);
  return [...seen.values()];
}

const HEADER = `# Fairlead's environment: every variable npm start and the services read, with its default.
# Generated from the configuration schemas by \`npm run env:example\`; edit the schemas'
# .describe() texts, not this file (tests/contracts/env-example.unit.test.ts checks it).
#
# Copy it to .env and uncomment what you change. \`npm start\` and \`npm run dev\` load .env
# when it exists (node --env-file-if-exists=.env); a variable already set in the
# environment wins over the file. A variable set here applies to every process that reads it.
`;

/** A value as a .env line holds it: quoted when it has spaces, quotes or `#` (which would start a comment). */
export function envValue(value: string): string {
  if (!/[\s#"'`]/.test(value)) return value;
  // Node's .env parser unescapes nothing but \n inside double quotes: pick a quote the value lacks.
  return value.includes('"') ? `'${value}'` : `"${value}"`;
}

function line(v: ConfigVariable): string {
  const what = v.description ?? '(no description)';
  const status = v.required ? ' (required)' : v.default === undefined ? ' (unset by default)' : '';
  return `# ${what}${status}\n#${v.name}=${envValue(v.default ?? '')}\n`;
}

/** The exact text of .env.example. */
export function renderEnvExample(): string {
  const parts = [HEADER];
  for (const section of envSections()) {
    parts.push(`\n# ── ${section.title} ${'─'.repeat(Math.max(3, 72 - section.title.length))}\n# ${section.note}\n\n`);
    parts.push(section.variables.map(line).join('\n'));
  }
  return parts.join('');
}
