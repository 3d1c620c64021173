/** A lead's story as text for a person (the same facts as --json). */
import type { LeadStory } from '../replay/audit-lead';

export function formatStory(story: LeadStory): string {
  const lines: string[] = [`lead ${story.lead_id} (niche ${story.niche_id ?? 'unknown'})`, '', 'timeline:'];
  for (const e of story.timeline) lines.push(`  #${e.global_position} ${e.at} ${e.stream} ${e.type}`);
  lines.push('', 'level rounds (candidates in least-recently-served order):');
  for (const r of story.rounds) {
    lines.push(`  level ${r.level_id} (order ${r.order_position}) round ${r.round}: lru_check ${r.lru_check}`);
    for (const c of r.candidates) {
      const picked = r.picks.some((p) => p.provider_id === c.provider_id);
      lines.push(`    ${c.rank}. ${c.provider_id} (subscription ${c.subscription_id}) last_received_at ${c.last_received_at ?? 'never'}${picked ? '  ← picked' : ''}`);
    }
    const order = r.derived_order.map((c) => `${c.provider_id} (${c.last_served ? `lead ${c.last_served.lead_id} #${c.last_served.global_position}` : 'never'})`);
    lines.push(`    order by the log: ${order.join(', ') || '(none)'}`);
    for (const x of r.excluded) lines.push(`    excluded: ${JSON.stringify(x)}`);
    for (const o of r.outcomes) lines.push(`    ${o.provider_id}: ${o.outcome}${o.reason ? ` (${o.reason})` : ''}`);
    for (const v of r.violations) lines.push(`    VIOLATION: ${v}`);
  }
  lines.push('', 'charges:');
  for (const c of story.charges) lines.push(`  #${c.global_position} ${c.type} ${JSON.stringify(c.data)}`);
  lines.push('', 'emails:');
  if (story.emails.length === 0) lines.push('  (none recorded)');
  for (const m of story.emails) lines.push(`  ${m.created_at} ${m.kind} → ${m.recipient} "${m.subject}" ${m.status}`);
  lines.push('', `least-recently-served check (re-derived from the log): ${story.lru_check}`);
  return `${lines.join('\n')}\n`;
}
