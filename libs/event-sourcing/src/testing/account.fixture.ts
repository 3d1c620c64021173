/** A small decider for the kernel's own tests: an account that never goes below zero. */
import type { Decider } from '../decider';

export type AccountEvent =
  | { type: 'Opened'; data: { owner: string }; id?: string }
  | { type: 'Deposited'; data: { amount: number }; id?: string }
  | { type: 'Withdrawn'; data: { amount: number }; id?: string };

export type AccountCommand = { type: 'open'; owner: string } | { type: 'deposit'; amount: number; id?: string } | { type: 'withdraw'; amount: number };

export type AccountState = { status: 'none' } | { status: 'open'; owner: string; balance: number };

export class AccountRefused extends Error {
  constructor(readonly code: 'NOT_OPEN' | 'ALREADY_OPEN' | 'INSUFFICIENT', message: string) {
    super(message);
    this.name = 'AccountRefused';
  }
}

export const accountDecider: Decider<AccountCommand, AccountEvent, AccountState> = {
  initialState: () => ({ status: 'none' }),
  evolve: (state, event) => {
    switch (event.type) {
      case 'Opened':
        return { status: 'open', owner: event.data.owner, balance: 0 };
      case 'Deposited':
        return state.status === 'open' ? { ...state, balance: state.balance + event.data.amount } : state;
      case 'Withdrawn':
        return state.status === 'open' ? { ...state, balance: state.balance - event.data.amount } : state;
    }
  },
  decide: (command, state) => {
    if (command.type === 'open') {
      if (state.status === 'open') {
        if (state.owner === command.owner) return [];
        throw new AccountRefused('ALREADY_OPEN', 'the account is open already');
      }
      return [{ type: 'Opened', data: { owner: command.owner } }];
    }
    if (state.status !== 'open') throw new AccountRefused('NOT_OPEN', 'no such account');
    if (command.type === 'deposit') return [{ type: 'Deposited', data: { amount: command.amount }, ...(command.id ? { id: command.id } : {}) }];
    if (state.balance < command.amount) throw new AccountRefused('INSUFFICIENT', `balance ${state.balance} < ${command.amount}`);
    return [{ type: 'Withdrawn', data: { amount: command.amount } }];
  },
};
