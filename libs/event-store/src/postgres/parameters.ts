/** Binds a value as the statement's next parameter and returns its placeholder (`$n`). */
export type BindParameter = (value: unknown) => string;

/**
 * Values bound in order for one statement: `param(value)` adds the value after those
 * already there (`first`, e.g. a call's own parameters) and returns its placeholder; `values`
 * go with the text. Values belong in parameters, never in the text (a statement is prepared
 * once per distinct text).
 */
export function boundParameters(first: readonly unknown[] = []): { param: BindParameter; values: unknown[] } {
  const values = [...first];
  return {
    values,
    param: (value) => {
      values.push(value);
      return `$${values.length}`;
    },
  };
}
