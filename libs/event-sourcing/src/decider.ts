/**
 * The one shape of a decision. An aggregate is a Decider: what a command decides
 * (`decide`, pure, may throw a domain error to refuse), how an event moves the state
 * (`evolve`, pure, total) and where a new stream starts (`initialState`). A process
 * manager — something that reacts to inputs with several steps, like fairness's
 * distribution of a lead — is a Workflow: the same three functions, but `decide` turns an
 * input into outputs (events to record, commands to send) instead of a command into events.
 */

/** An event as the domain decides it. `id` is set when the event's id is natural (a deterministic id makes a retried append a no-op). */
export interface DomainEvent<Type extends string = string, Data = unknown> {
  type: Type;
  data: Data;
  /** A deterministic id (UUID v5 of a natural key); left out, the handler gives a random one. */
  id?: string;
  /** Metadata for this event alone (merged over the command's). */
  metadata?: Record<string, unknown>;
}

export interface Decider<Command, Event extends DomainEvent, State> {
  /** The events a command decides on the current state; [] when it changes nothing. Throws to refuse. */
  decide: (command: Command, state: State) => readonly Event[];
  /** The state after one event. Must not throw for any event `decide` can return. */
  evolve: (state: State, event: Event) => State;
  /** The state of a stream that does not exist yet. */
  initialState: () => State;
}

/** The state after events, from the decider's initial state (or from `from`). */
export function foldEvents<Event extends DomainEvent, State>(
  decider: Pick<Decider<never, Event, State>, 'evolve' | 'initialState'>,
  events: readonly Event[],
  from: State = decider.initialState(),
): State {
  let state = from;
  for (const event of events) state = decider.evolve(state, event);
  return state;
}

/**
 * A process manager: `decide` answers an input (an event it reacts to, a reply, a timer)
 * with outputs given the process's state; `evolve` moves that state by the outputs it
 * recorded (and by whatever else it keeps in its stream). Pure, like a Decider.
 */
export interface Workflow<Input, Output, State, Event = Output> {
  decide: (input: Input, state: State) => readonly Output[];
  evolve: (state: State, event: Event) => State;
  initialState: () => State;
}
