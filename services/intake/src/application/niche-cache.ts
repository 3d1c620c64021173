/**
 * A niche directory in front of another (rotation's get_niche), so that a burst of leads
 * of one niche costs one request instead of one per lead.
 *
 * - A niche that exists is remembered for `ttlMs`, counted from when its request was
 *   sent. The price is staleness: a change of the niche's `auto_distribute` flag takes
 *   effect for leads approved up to `ttlMs` later (leads approved meanwhile follow the old
 *   flag; an operator can still request their distribution by hand).
 * - "Unknown niche" is never remembered: a niche created a moment ago is found at once,
 *   instead of its first leads being rejected for up to `ttlMs`.
 * - Errors are never remembered: the next lookup asks again.
 * - Lookups of one niche while its request is in flight share that request (single
 *   flight), whatever its answer.
 * - Under steady traffic a lead never waits for the request: a lookup of a niche remembered
 *   for more than half the TTL answers from the cache and asks again in the background, so
 *   the answer is renewed before it expires (still never older than the TTL). A background
 *   request that fails leaves the entry as it was, to expire as usual.
 */
import type { NicheDirectory, NicheInfo } from './niche-directory';

/** How long a niche found at rotation is reused unless configured otherwise (NICHE_CACHE_TTL_MS). */
export const INTAKE_DEFAULT_NICHE_CACHE_TTL_MS = 1_000;

export interface NicheCacheOptions {
  /** How long a found niche is reused, in ms; 0 turns the cache (and the request sharing) off. */
  ttlMs: number;
  /** Milliseconds of a monotonic-enough clock (default Date.now); tests pass their own. */
  now?: () => number;
  /** Entries kept before expired ones are swept (default 10 000; niches are few). */
  sweepAbove?: number;
}

interface Found {
  info: NicheInfo;
  /** When its request was sent: valid until `ttlMs` after it. */
  askedAt: number;
}

export function cachedNicheDirectory(inner: NicheDirectory, options: NicheCacheOptions): NicheDirectory {
  const { ttlMs } = options;
  if (!Number.isInteger(ttlMs) || ttlMs < 0) throw new RangeError(`ttlMs must be a whole number ≥ 0, got ${ttlMs}`);
  if (ttlMs === 0) return inner;
  const now = options.now ?? Date.now;
  const sweepAbove = options.sweepAbove ?? 10_000;
  const found = new Map<string, Found>();
  const inFlight = new Map<string, Promise<NicheInfo | null>>();

  const remember = (nicheId: string, info: NicheInfo, askedAt: number) => {
    if (found.size >= sweepAbove) {
      const at = now();
      for (const [id, entry] of found) if (entry.askedAt + ttlMs <= at) found.delete(id);
    }
    const current = found.get(nicheId);
    // A slower answer to an older request must not replace a newer one.
    if (!current || current.askedAt <= askedAt) found.set(nicheId, { info, askedAt });
  };

  /** Asks `inner`, shared by every lookup of the niche until it answers. */
  const ask = (nicheId: string): Promise<NicheInfo | null> => {
    const pending = inFlight.get(nicheId);
    if (pending) return pending;
    const askedAt = now();
    const request = inner.lookup(nicheId).then(
      (info) => {
        inFlight.delete(nicheId);
        if (info) remember(nicheId, info, askedAt);
        // A niche deleted meanwhile is no longer remembered ("unknown" never is).
        else found.delete(nicheId);
        return info;
      },
      (error: unknown) => {
        inFlight.delete(nicheId);
        throw error;
      },
    );
    inFlight.set(nicheId, request);
    return request;
  };

  return {
    lookup: (nicheId) => {
      const hit = found.get(nicheId);
      if (hit) {
        const at = now();
        if (hit.askedAt + ttlMs > at) {
          if (at - hit.askedAt >= ttlMs / 2 && !inFlight.has(nicheId)) ask(nicheId).catch(() => undefined);
          return Promise.resolve(hit.info);
        }
        found.delete(nicheId);
      }
      return ask(nicheId);
    },
  };
}
