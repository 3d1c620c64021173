/** The operator API's read models, each with its own checkpoint in schema `operator`. */
import type { ProjectionDefinition } from '@fairlead/projections';
import { assignmentsProjection } from './assignments/assignments.projection';
import { auditProjection } from './audit/audit.projection';
import { catalogueProjection } from './catalogue/catalogue.projection';
import { decisionsProjection } from './decisions/decisions.projection';
import { leadsProjection } from './leads/leads.projection';
import { withNamedStatements } from './named-statements';
import { providersProjection } from './providers/providers.projection';
import { subscriptionsProjection } from './subscriptions/subscriptions.projection';
import { walletsProjection } from './wallets/wallets.projection';

export const SCHEMA = 'operator';

/** Their statements run as named (prepared) statements: named-statements.ts. */
export const PROJECTIONS: readonly ProjectionDefinition[] = [
  leadsProjection,
  decisionsProjection,
  assignmentsProjection,
  catalogueProjection,
  providersProjection,
  subscriptionsProjection,
  walletsProjection,
  auditProjection,
].map(withNamedStatements);
