#!/usr/bin/env node
/**
 * The `fairlead` command. The repository runs its TypeScript sources directly (as `npm start`
 * does), so this loads tsx in this process and then the CLI's entry point.
 */
import { register } from 'tsx/esm/api';

register();
await import('../src/main.ts');
