/**
 * Text and free-form JSON that every store and wire of the system can hold. PostgreSQL
 * refuses a NUL character in `text` and `jsonb`, and an unpaired UTF-16 surrogate (half of
 * an emoji, `"\ud800"` in JSON) is either refused by `jsonb` or silently turned into U+FFFD
 * by the UTF-8 encoder. So both are refused at every boundary, with a clear reason, before
 * anything is written: every string of a command, event or HTTP schema is a `SafeText`, and
 * free-form values (`details`, HTTP bodies) are walked by `findJsonProblems`, which can also
 * bound their nesting (a deeply nested value overflows the stack of whatever serializes it
 * recursively later, e.g. the PostgreSQL driver's JSON.stringify).
 */
import { z } from 'zod';

// With the `u` flag, \p{Cs} matches only a surrogate that is not part of a pair.
const UNSAFE = /[\0\p{Cs}]/u;
const UNSAFE_ALL = /[\0\p{Cs}]/gu;

export const UNSAFE_TEXT_MESSAGE = 'must not contain NUL characters or unpaired UTF-16 surrogates';

/** True when the text has no NUL character and no unpaired surrogate. */
export function isSafeText(text: string): boolean {
  return !UNSAFE.test(text);
}

/** The text with every NUL and unpaired surrogate replaced by U+FFFD (for a message that quotes refused input). */
export function toSafeText(text: string): string {
  return text.replace(UNSAFE_ALL, '\uFFFD');
}

/** A string schema that refuses NUL characters and unpaired surrogates; chain `.min()`, `.max()`, … as on `z.string()`. */
export const safeText = () => z.string().refine(isSafeText, { message: UNSAFE_TEXT_MESSAGE });
export const SafeText = safeText();

/** Default bound of the nesting of free-form values (objects and arrays inside each other). */
export const MAX_JSON_DEPTH = 32;

export interface JsonProblem {
  /** Keys and indexes from the root to the offending value (to the object, when one of its keys is the problem). */
  path: (string | number)[];
  kind: 'unsafe_text' | 'too_deep';
  message: string;
}

interface Node {
  value: unknown;
  depth: number;
  parent: Node | undefined;
  key: string | number | undefined;
}

function pathOf(node: Node): (string | number)[] {
  const path: (string | number)[] = [];
  for (let n: Node | undefined = node; n?.key !== undefined; n = n.parent) path.push(n.key);
  return path.reverse();
}

/**
 * The problems of a parsed JSON value: strings or keys with NUL characters or unpaired
 * surrogates, and nesting deeper than `maxDepth` (the root object is depth 1). Iterative, so
 * a value nested a million levels deep is reported, not a stack overflow. Stops after
 * `limit` problems.
 */
export function findJsonProblems(value: unknown, options: { maxDepth?: number; limit?: number } = {}): JsonProblem[] {
  const maxDepth = options.maxDepth ?? MAX_JSON_DEPTH;
  const limit = options.limit ?? 10;
  const problems: JsonProblem[] = [];
  const stack: Node[] = [{ value, depth: 0, parent: undefined, key: undefined }];
  while (stack.length > 0 && problems.length < limit) {
    const node = stack.pop()!;
    const v = node.value;
    if (typeof v === 'string') {
      if (!isSafeText(v)) problems.push({ path: pathOf(node), kind: 'unsafe_text', message: UNSAFE_TEXT_MESSAGE });
      continue;
    }
    if (typeof v !== 'object' || v === null) continue;
    const depth = node.depth + 1;
    if (depth > maxDepth) {
      problems.push({ path: pathOf(node), kind: 'too_deep', message: `nested deeper than ${maxDepth} levels` });
      continue;
    }
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ value: v[i], depth, parent: node, key: i });
      continue;
    }
    for (const key of Object.keys(v).reverse()) {
      // An unsafe key is reported at its object: naming it would repeat what was refused.
      if (!isSafeText(key)) problems.push({ path: pathOf(node), kind: 'unsafe_text', message: `a key here ${UNSAFE_TEXT_MESSAGE}` });
      else stack.push({ value: (v as Record<string, unknown>)[key], depth, parent: node, key });
    }
  }
  return problems.slice(0, limit);
}

/**
 * A free-form JSON object (string keys, any values) whose strings and keys are safe text.
 * Its nesting is bounded only when `maxDepth` is given (the object itself is level 1): a
 * lead's is bounded with the whole message's size, by intake (LEAD_LIMITS, configurable).
 */
export function safeJsonRecord(options: { maxDepth?: number } = {}) {
  const maxDepth = options.maxDepth ?? Number.POSITIVE_INFINITY;
  return z.record(z.string(), z.unknown()).superRefine((value, ctx) => {
    for (const problem of findJsonProblems(value, { maxDepth })) ctx.addIssue({ code: 'custom', message: problem.message, path: problem.path });
  });
}
