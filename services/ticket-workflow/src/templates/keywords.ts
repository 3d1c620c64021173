import { join } from 'node:path';
import type { ConfinedRoot } from './confined-root';

/** Per-project keyword values live in this file in the project directory. */
export const KEYWORD_FILE = '.ticket_keywords';

export class KeywordFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeywordFileError';
  }
}

/**
 * Parses `name = value` lines; `#` starts a comment line; a value in double quotes keeps
 * its surrounding spaces. Only data: nothing in the file is evaluated.
 */
export function parseKeywordFile(text: string, source = KEYWORD_FILE): Record<string, string> {
  const values: Record<string, string> = {};
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const match = /^([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$/.exec(line);
    if (!match) throw new KeywordFileError(`${source}:${index + 1}: expected "name = value", got ${JSON.stringify(raw)}`);
    let value = match[2]!;
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    values[match[1]!] = value;
  });
  return values;
}

/** The project's keyword file (read inside the root, never through a symlink), or no values when it has none. */
export async function loadProjectKeywords(root: ConfinedRoot, directory: string): Promise<Record<string, string>> {
  const path = join(directory, KEYWORD_FILE);
  const content = await root.readFile(path, KEYWORD_FILE, { maxBytes: 1024 * 1024, optional: true });
  return content === undefined ? {} : parseKeywordFile(content.toString('utf8'), path);
}
