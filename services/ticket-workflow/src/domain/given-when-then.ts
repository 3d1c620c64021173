/**
 * Given events, when a command, then events (or an error): the shape of every domain
 * test, for any decider. Test-only helper, kept beside the deciders it exercises.
 */
export interface Decider<C, E, S> {
  initialState: () => S;
  evolve: (state: S, event: E) => S;
  decide: (command: C, state: S) => E[];
}

export function given<C, E, S>(decider: Decider<C, E, S>, events: readonly E[]) {
  const state = events.reduce(decider.evolve, decider.initialState());
  return {
    state,
    when: (command: C) => {
      let result: E[] | undefined;
      let error: unknown;
      try {
        result = decider.decide(command, state);
      } catch (e) {
        error = e;
      }
      return {
        /** The events decided; throws the decider's error when it refused. */
        then: (): E[] => {
          if (error !== undefined) throw error;
          return result!;
        },
        error: (): unknown => {
          if (error === undefined) throw new Error(`expected a refusal, got events ${JSON.stringify(result)}`);
          return error;
        },
      };
    },
  };
}
