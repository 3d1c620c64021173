import type { ConfinedRoot } from './confined-root';

/** An issue file: `NNN-description.md`. */
const ISSUE_FILE = /^(\d+)-.*\.md$/;

/**
 * The highest issue number among `NNN-*.md` files of the given folders (0 when none).
 * Gaps are fine: only the maximum counts. A missing folder counts as empty.
 */
export async function highestIssueNumber(root: ConfinedRoot, dirs: readonly string[]): Promise<number> {
  let max = 0;
  for (const dir of dirs) {
    for (const entry of (await root.list(dir, 'issue folder')) ?? []) {
      const match = ISSUE_FILE.exec(entry.name);
      if (match) max = Math.max(max, Number.parseInt(match[1]!, 10));
    }
  }
  return max;
}

/** Zero-padded to three digits; wider numbers keep all their digits. */
export const formatIssueNumber = (n: number): string => String(n).padStart(3, '0');

/** A template name as a file-name part: lower case, `a-z0-9-` only. */
export function templateSlug(name: string): string {
  const slug = name
    .replace(/\.md$/i, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return slug || 'ticket';
}

export const issueFileName = (n: number, templateName: string): string => `${formatIssueNumber(n)}-${templateSlug(templateName)}.md`;
