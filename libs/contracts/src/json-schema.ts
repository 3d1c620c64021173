import { z } from 'zod';
import { MESSAGE_SCHEMAS } from './registry';

/** One message schema as published for non-TypeScript publishers. */
export interface PublishedJsonSchema {
  name: string;
  version: number;
  /** File name under libs/contracts/json-schema/, e.g. `lead.approved.v1.schema.json`. */
  fileName: string;
  /** The JSON Schema (draft 2020-12) of what a publisher may send (zod's input side). */
  document: Record<string, unknown>;
}

/**
 * The JSON Schema of every registered message. The export script writes these files
 * and a test compares them with the committed ones, so the two never drift apart.
 */
export function publishedJsonSchemas(): PublishedJsonSchema[] {
  return MESSAGE_SCHEMAS.map(({ name, version, schema }) => {
    const json = z.toJSONSchema(schema, { io: 'input', target: 'draft-2020-12' });
    return {
      name,
      version,
      fileName: `${name}.v${version}.schema.json`,
      document: { $id: `https://fairlead.dev/schemas/${name}.v${version}.json`, title: `${name} v${version}`, ...json },
    };
  });
}

/** The exact text of a published schema file (stable formatting, trailing newline). */
export function renderJsonSchemaFile(schema: PublishedJsonSchema): string {
  return `${JSON.stringify(schema.document, null, 2)}\n`;
}
