/**
 * Hook for the relay figure (store → JetStream events/s). The relay's engineer fills
 * this in; until then the benchmark reports `relay_per_s: null`.
 */
export interface RelayBenchContext {
  /** URL of the benchmark's database, where the event store is migrated and holds events. */
  databaseUrl: string;
  /** Schema of the event store. */
  schema: string;
  durationMs: number;
}

export async function measureRelay(_context: RelayBenchContext): Promise<number | null> {
  return null;
}
