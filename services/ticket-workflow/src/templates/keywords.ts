import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

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

/** The project's keyword file, or no values when it has none. */
export async function loadProjectKeywords(directory: string): Promise<Record<string, string>> {
  const path = join(directory, KEYWORD_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
  return parseKeywordFile(text, path);
}
