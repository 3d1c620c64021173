export { subjectsFor, SUBJECTS, streamCategory, type Subjects } from './subjects';
export { LeadApprovedV1, type LeadApprovedV1Input } from './lead-approved';
export { MESSAGE_SCHEMAS } from './registry';
export { publishedJsonSchemas, renderJsonSchemaFile, type PublishedJsonSchema } from './json-schema';
export { RelayedEvent, RELAY_HEADERS } from './relayed-event';
export * from './distribution/index';
export * from './limits';
export * from './operations';
