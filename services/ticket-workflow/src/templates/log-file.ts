import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConfinedRoot } from './confined-root';

/** The tracking log of every distribution and rollback, kept in the base directory. */
export const DISTRIBUTION_LOG = '.ticket_distribution_log';

/** `success`, `failed`, `skipped` per project; `rolled_back`, `kept_edited`, `missing` per file on rollback; `rollback` once. */
export type LogStatus = 'success' | 'failed' | 'skipped' | 'rolled_back' | 'kept_edited' | 'missing' | 'rollback';

export interface LogLine {
  timestamp: Date;
  distributionId: string;
  project: string;
  issueFile: string;
  template: string;
  status: LogStatus;
}

/** `YYYY-MM-DD HH:MM:SS` in UTC, the original's timestamp format. */
export const logTimestamp = (date: Date): string => date.toISOString().slice(0, 19).replace('T', ' ');

// A field must not break the line format: no separators, no line breaks.
const field = (value: string): string => value.replace(/[|\r\n]/g, '_');

/** `timestamp|distribution_id|project|issue_file|template|status` */
export function formatLogLine(line: LogLine): string {
  return [logTimestamp(line.timestamp), line.distributionId, line.project, line.issueFile, line.template, line.status].map(field).join('|');
}

export async function appendDistributionLog(root: ConfinedRoot, baseDir: string, lines: readonly LogLine[]): Promise<void> {
  if (lines.length === 0) return;
  // One append call per batch: O_APPEND keeps concurrent writers' lines whole.
  await root.append(join(baseDir, DISTRIBUTION_LOG), lines.map((l) => `${formatLogLine(l)}\n`).join(''), DISTRIBUTION_LOG);
}

export interface ParsedLogLine {
  timestamp: string;
  distributionId: string;
  project: string;
  issueFile: string;
  template: string;
  status: string;
}

export async function readDistributionLog(baseDir: string): Promise<ParsedLogLine[]> {
  let text: string;
  try {
    text = await readFile(join(baseDir, DISTRIBUTION_LOG), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [timestamp = '', distributionId = '', project = '', issueFile = '', template = '', status = ''] = l.split('|');
      return { timestamp, distributionId, project, issueFile, template, status };
    });
}
