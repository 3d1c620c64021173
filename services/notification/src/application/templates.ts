/**
 * Email templates as files: `<name>.subject`, `<name>.text`, `<name>.html` in the
 * service's `templates/` folder, each replaceable by a file of the same name in an
 * operator's directory (EMAIL_TEMPLATES_DIR). Loaded and checked once at start-up.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EMAIL_KINDS, TEMPLATE_VARIABLES, type EmailKind } from '../domain/emails';
import { TemplateError } from '../domain/errors';
import { checkPlaceholders, render, type TemplateVariables } from '../domain/render';

/** The templates shipped with the service. */
export const DEFAULT_TEMPLATES_DIR = fileURLToPath(new URL('../../templates', import.meta.url));

const PARTS = ['subject', 'text', 'html'] as const;
type Part = (typeof PARTS)[number];

export interface EmailTemplate {
  subject: string;
  text: string;
  html: string;
  /** The file each part came from (for logs and operators). */
  sources: Record<Part, string>;
}

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

export interface TemplateSet {
  render(kind: EmailKind, variables: TemplateVariables): RenderedEmail;
  sources(kind: EmailKind): Record<Part, string>;
}

export interface LoadTemplatesOptions {
  /** Files here win over the defaults, one file at a time. */
  overrideDir?: string | undefined;
  /** The defaults (the service's own `templates/`). */
  defaultDir?: string;
}

export async function loadTemplates(options: LoadTemplatesOptions = {}): Promise<TemplateSet> {
  const defaultDir = options.defaultDir ?? DEFAULT_TEMPLATES_DIR;
  const templates = new Map<EmailKind, EmailTemplate>();
  for (const kind of EMAIL_KINDS) {
    const content = {} as Record<Part, string>;
    const sources = {} as Record<Part, string>;
    for (const part of PARTS) {
      const file = `${kind}.${part}`;
      const found = (options.overrideDir ? await readIfExists(join(options.overrideDir, file)) : undefined) ?? (await readIfExists(join(defaultDir, file)));
      if (!found) throw new TemplateError(`template ${file} not found in ${[options.overrideDir, defaultDir].filter(Boolean).join(' or ')}`);
      checkPlaceholders(found.text, TEMPLATE_VARIABLES[kind], found.path);
      // A subject file is one line; editors add a trailing newline.
      content[part] = part === 'subject' ? found.text.trim() : found.text;
      sources[part] = found.path;
    }
    if (content.subject.includes('\n')) throw new TemplateError(`${sources.subject} must hold one line`);
    templates.set(kind, { ...content, sources });
  }
  const get = (kind: EmailKind): EmailTemplate => {
    const template = templates.get(kind);
    if (!template) throw new TemplateError(`no template for ${kind}`);
    return template;
  };
  return {
    render: (kind, variables) => {
      const t = get(kind);
      return { subject: render(t.subject, variables, 'header'), text: render(t.text, variables, 'none'), html: render(t.html, variables, 'html') };
    },
    sources: (kind) => ({ ...get(kind).sources }),
  };
}

async function readIfExists(path: string): Promise<{ path: string; text: string } | undefined> {
  try {
    return { path, text: await readFile(path, 'utf8') };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new TemplateError(`cannot read template ${path}: ${(error as Error).message}`, { cause: error });
  }
}
