import { ERROR_CODES, invalid } from '../domain/index';

/**
 * What every edge (REST body, query and path; MCP tool arguments) checks before an input
 * reaches a schema, the store or a file: strings PostgreSQL cannot hold (NUL) or that are
 * not Unicode (lone surrogates), nesting deeper than any operation takes, and inputs too
 * large to walk. The refusal names the field, never its content.
 */
export interface InputLimits {
  /** Deepest nesting of objects and arrays (our inputs need 3). */
  maxDepth: number;
  /** Most values (objects, arrays, strings, …) in one input. */
  maxNodes: number;
}

export const DEFAULT_INPUT_LIMITS: InputLimits = Object.freeze({ maxDepth: 16, maxNodes: 100_000 });

// A high surrogate not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why a string cannot be stored, or undefined when it can. */
export function stringProblem(value: string): string | undefined {
  if (value.includes('\0')) return 'contains a NUL character';
  if (LONE_SURROGATE.test(value)) return 'contains a lone surrogate (not valid Unicode text)';
  return undefined;
}

/** The first problem found, as `{ path, message }` (path as a JSON pointer), or undefined. */
export function findInputProblem(input: unknown, limits: InputLimits = DEFAULT_INPUT_LIMITS): { path: string; message: string } | undefined {
  // Iterative on purpose: a recursive walk is itself what a deep input would overflow.
  const stack: Array<{ value: unknown; path: string; depth: number }> = [{ value: input, path: '', depth: 0 }];
  let nodes = 0;
  while (stack.length > 0) {
    const { value, path, depth } = stack.pop()!;
    if (++nodes > limits.maxNodes) return { path: path || '/', message: `the input has more than ${limits.maxNodes} values` };
    if (typeof value === 'string') {
      const problem = stringProblem(value);
      if (problem) return { path: path || '/', message: problem };
      continue;
    }
    if (typeof value !== 'object' || value === null) continue;
    if (depth >= limits.maxDepth) return { path: path || '/', message: `nested deeper than ${limits.maxDepth} levels` };
    const entries: Array<[string, unknown]> = Array.isArray(value) ? value.map((v, i) => [String(i), v]) : Object.entries(value);
    for (const [key, child] of entries) {
      const keyProblem = stringProblem(key);
      const shown = keyProblem ? '?' : key.length > 64 ? `${key.slice(0, 64)}…` : key;
      const childPath = `${path}/${shown.replace(/~/g, '~0').replace(/\//g, '~1')}`;
      if (keyProblem) return { path: childPath, message: `a field name ${keyProblem}` };
      stack.push({ value: child, path: childPath, depth: depth + 1 });
    }
  }
  return undefined;
}

/** Throws VALIDATION_FAILED (400 / tool error) naming the field when the input cannot be accepted. */
export function assertAcceptableInput(input: unknown, where = 'input', limits?: InputLimits): void {
  const problem = findInputProblem(input, limits);
  if (problem) throw invalid(ERROR_CODES.validation, `${where} ${problem.path}: ${problem.message}`);
}
