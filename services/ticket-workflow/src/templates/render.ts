/**
 * `{{keyword}}` substitution. Values are inserted as plain text in one pass: a value
 * that itself looks like `{{x}}` or `$(cmd)` is never expanded or executed.
 */

const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}/g;

export type Keywords = Readonly<Record<string, string>>;

export interface Rendered {
  content: string;
  /** Keywords used by the template that have no value, in order of first use; left as they were. */
  unknown: string[];
  /** The result would pass `maxLength`: substitution stopped there (the content is then incomplete). */
  tooLong: boolean;
}

/** Substitutes; stops substituting once the result would exceed `maxLength` (a small template with many large values must not fill the memory). */
export function renderTemplate(template: string, values: Keywords, maxLength = Number.POSITIVE_INFINITY): Rendered {
  const unknown: string[] = [];
  let length = template.length;
  let tooLong = length > maxLength;
  const content = template.replace(PLACEHOLDER, (whole, name: string) => {
    // hasOwn: `{{constructor}}` must not find Object.prototype's members.
    if (Object.hasOwn(values, name)) {
      const value = values[name]!;
      if (tooLong || length - whole.length + value.length > maxLength) {
        tooLong = true;
        return whole;
      }
      length += value.length - whole.length;
      return value;
    }
    if (!unknown.includes(name)) unknown.push(name);
    return whole;
  });
  return { content, unknown, tooLong };
}

/** The keywords a template uses, each once, in order of first use. */
export function keywordsIn(template: string): string[] {
  const names: string[] = [];
  for (const match of template.matchAll(PLACEHOLDER)) {
    const name = match[1]!;
    if (!names.includes(name)) names.push(name);
  }
  return names;
}

/** The names of the built-in keywords, always available. */
export const BUILT_IN_KEYWORDS = ['project_name', 'project_dir', 'date', 'ticket_number', 'ticket_id'] as const;

export interface BuiltIns {
  projectName: string;
  projectDir: string | null;
  /** The distribution's date, YYYY-MM-DD (UTC). */
  date: string;
  /** The issue number (`NNN`), or the ticket's number for projects without a directory. */
  ticketNumber: string;
  /** The readable ticket id (`WEB-007`) when tickets are issued. */
  ticketId: string | null;
}

export function builtInKeywords(b: BuiltIns): Record<string, string> {
  return {
    project_name: b.projectName,
    project_dir: b.projectDir ?? '',
    date: b.date,
    ticket_number: b.ticketNumber,
    ...(b.ticketId !== null ? { ticket_id: b.ticketId } : {}),
  };
}

/** The title of a ticket made from rendered markdown: its first heading, else the template name. */
export function titleOf(markdown: string, fallback: string): string {
  const heading = /^#{1,6}\s+(.+?)\s*#*\s*$/m.exec(markdown);
  return (heading?.[1] ?? fallback).slice(0, 200);
}
