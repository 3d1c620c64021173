import { ERROR_CODES, invalid } from '../domain/index';
import type { ConfinedRoot } from '../templates/index';
import type { WorkflowContext } from './context';

/** The templates and projects roots; distribution is refused without them. */
export function distributionRoots(ctx: WorkflowContext): { templates: ConfinedRoot; projects: ConfinedRoot } {
  if (!ctx.files) throw invalid(ERROR_CODES.filesNotConfigured, 'template distribution is not configured here: it needs a templates root and a projects root (TEMPLATES_ROOT, PROJECTS_ROOT)');
  return ctx.files;
}

