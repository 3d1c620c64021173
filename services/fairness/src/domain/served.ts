/**
 * The one rule of how a served subscription's stats move — used by the distribution's
 * in-memory served view (a pick counts as served before billing answers it) and by
 * `fairness.subscription_stats` (recordReceipts computes with it the values it writes).
 *
 * One more lead at `at`: the last served time and lead move to it unless a later one is
 * known; the day's and the month's counts grow when `at` falls in the day / month they
 * count, start again at 1 in a later one, and are left alone for an earlier one — a
 * receipt older than the stats (a clock step back) never moves them backwards.
 */
import type { ReceiptStats } from './eligibility';

/**
 * The UTC day and month of the instant last asked about. Eligibility asks for `now`'s day and
 * month once per subscription of a level (150 in bench:distribution), always the same instant
 * within a lead: formatting it each time was 5 % of the fairness process's CPU.
 */
let lastPeriods = { time: Number.NaN, day: '', month: '' };
function periodsOf(at: Date): { day: string; month: string } {
  const time = at.getTime();
  // NaN never equals itself: an invalid date is formatted (and throws) every time.
  if (time !== lastPeriods.time) {
    const iso = at.toISOString();
    lastPeriods = { time, day: iso.slice(0, 10), month: iso.slice(0, 7) };
  }
  return lastPeriods;
}

export const utcDay = (at: Date): string => periodsOf(at).day;
export const utcMonth = (at: Date): string => periodsOf(at).month;

/** The stats as `fairness.subscription_stats` keeps them: with the lead last served. */
export interface ServedStats extends ReceiptStats {
  lastLeadId: string | null;
}

/** A period's (day's or month's) count after one more lead in `period`. */
function countIn(stored: string | null, count: number, period: string): { period: string; count: number } {
  if (stored === period) return { period, count: count + 1 };
  if (stored !== null && stored > period) return { period: stored, count };
  return { period, count: 1 };
}

/** The stats after one more lead at `at`. */
export function servedAt(stats: ReceiptStats, at: Date): ReceiptStats {
  const day = countIn(stats.day, stats.dayCount, utcDay(at));
  const month = countIn(stats.month, stats.monthCount, utcMonth(at));
  return {
    lastReceivedAt: stats.lastReceivedAt && stats.lastReceivedAt > at ? stats.lastReceivedAt : at,
    day: day.period,
    dayCount: day.count,
    month: month.period,
    monthCount: month.count,
  };
}

/** servedAt for a lead received: the lead last served moves with the last served time (a tie goes to the newer receipt). */
export function receivedLead(stats: ServedStats, receipt: { at: Date; leadId: string }): ServedStats {
  const moved = stats.lastReceivedAt === null || receipt.at >= stats.lastReceivedAt;
  return { ...servedAt(stats, receipt.at), lastLeadId: moved ? receipt.leadId : stats.lastLeadId };
}
