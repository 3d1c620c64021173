/**
 * `{{name}}` placeholders, nothing else: no expressions, no helpers, no code. A template
 * an operator edits can only place the variables its email provides.
 */
import { TemplateError } from './errors';

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

export type TemplateVariables = Readonly<Record<string, string>>;

/** How a value is written into a part: HTML-escaped, one header line, or as is. */
export type Escaping = 'html' | 'header' | 'none';

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/** The placeholder names a template uses, in order of first use. */
export function placeholdersOf(template: string): string[] {
  return [...new Set([...template.matchAll(PLACEHOLDER)].map((m) => m[1]!))];
}

/** Fails when the template uses a name outside `allowed` (caught at start-up, not at send time). */
export function checkPlaceholders(template: string, allowed: readonly string[], where: string): void {
  const unknown = placeholdersOf(template).filter((name) => !allowed.includes(name));
  if (unknown.length > 0) {
    throw new TemplateError(`${where} uses unknown placeholder(s) ${unknown.map((n) => `{{${n}}}`).join(', ')}; known: ${allowed.join(', ')}`);
  }
}

export function render(template: string, variables: TemplateVariables, escaping: Escaping): string {
  return template.replace(PLACEHOLDER, (_match, name: string) => {
    const value = variables[name];
    if (value === undefined) throw new TemplateError(`no value for placeholder {{${name}}}`);
    if (escaping === 'html') return escapeHtml(value);
    // A subject is one header line; a value must not start another one.
    if (escaping === 'header') return value.replace(/[\r\n]+/g, ' ');
    return value;
  });
}
