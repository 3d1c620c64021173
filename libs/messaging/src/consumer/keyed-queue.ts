/**
 * Pending work grouped by key: items of one key are handed out one at a time in the
 * order they were pushed; items of different keys may run side by side. `take()` gives
 * the oldest item whose key is idle, so no key starves behind a busy one.
 */
export class KeyedQueue<T> {
  readonly #pending: { key: string; item: T }[] = [];
  readonly #busy = new Set<string>();

  push(key: string, item: T): void {
    this.#pending.push({ key, item });
  }

  /** The oldest pending item whose key is idle, marking that key busy until `release(key)`. */
  take(): { key: string; item: T } | undefined {
    // Linear scan: the queue is bounded by the consumer's max_ack_pending (tens to hundreds).
    const index = this.#pending.findIndex((p) => !this.#busy.has(p.key));
    if (index === -1) return undefined;
    const [next] = this.#pending.splice(index, 1);
    if (next) this.#busy.add(next.key);
    return next;
  }

  /**
   * Up to `max` more pending items of `key` (a key the caller holds busy from `take()`),
   * oldest first, removed from the queue: a batch of one key's waiting work.
   */
  takeMore(key: string, max: number): T[] {
    const taken: T[] = [];
    for (let i = 0; i < this.#pending.length && taken.length < max; ) {
      if (this.#pending[i]!.key === key) taken.push(this.#pending.splice(i, 1)[0]!.item);
      else i++;
    }
    return taken;
  }

  /** How many items of `key` are pending. */
  countOf(key: string): number {
    let count = 0;
    for (const p of this.#pending) if (p.key === key) count++;
    return count;
  }

  release(key: string): void {
    this.#busy.delete(key);
  }

  /** Removes and returns every item not yet taken, oldest first. */
  drain(): T[] {
    return this.#pending.splice(0).map((p) => p.item);
  }

  get pending(): number {
    return this.#pending.length;
  }

  get busy(): number {
    return this.#busy.size;
  }
}
