/**
 * Given events, when a command, then events — or then a refusal: the shape of every
 * domain test, for any decider. Failures are node:assert errors, which every test runner
 * prints with a diff.
 *
 *   const given = DeciderSpecification.for(walletDecider);
 *   given([toppedUp(500)]).when(charge(300)).then([charged(300)]);
 *   given([]).when(charge(1)).thenThrows(WalletNotOpenError);
 */
import assert from 'node:assert/strict';
import { foldEvents, type Decider, type DomainEvent } from '../decider';

export interface WhenResult<Event, State> {
  /** The decided events equal these (deep, strict). Returns the state after them, for further checks. */
  then(expected: readonly Event[]): State;
  /** The decision changed nothing (no events). */
  thenNothingHappened(): void;
  /** The decider refused with an error of this class (and, when given, one that passes `check`). Returns the error. */
  thenThrows<E extends Error>(errorClass: abstract new (...args: never[]) => E, check?: (error: E) => boolean | void): E;
  /** The decided events, for checks the other forms do not cover (throws the decider's error when it refused). */
  events(): readonly Event[];
}

export interface GivenResult<Command, Event, State> {
  /** The state the events lead to. */
  readonly state: State;
  when(command: Command): WhenResult<Event, State>;
}

export const DeciderSpecification = {
  for<Command, Event extends DomainEvent, State>(decider: Decider<Command, Event, State>) {
    return (events: readonly Event[]): GivenResult<Command, Event, State> => {
      const state = foldEvents(decider, events);
      return {
        state,
        when: (command) => {
          let decided: readonly Event[] | undefined;
          let refusal: unknown;
          let refused = false;
          try {
            decided = decider.decide(command, state);
          } catch (error) {
            refused = true;
            refusal = error;
          }
          const decidedOrThrow = (): readonly Event[] => {
            if (refused) throw refusal;
            return decided!;
          };
          return {
            events: decidedOrThrow,
            then: (expected) => {
              assert.deepStrictEqual(decidedOrThrow(), expected);
              return foldEvents(decider, decided!, state);
            },
            thenNothingHappened: () => assert.deepStrictEqual(decidedOrThrow(), []),
            thenThrows: (errorClass, check) => {
              if (!refused) assert.fail(`expected a refusal (${errorClass.name}), got events ${JSON.stringify(decided)}`);
              assert.ok(refusal instanceof errorClass, `expected ${errorClass.name}, got ${String(refusal)}`);
              if (check) assert.notStrictEqual(check(refusal), false, `the refusal did not pass the check: ${String(refusal)}`);
              return refusal;
            },
          };
        },
      };
    };
  },
};
