/** Reads of `operator.niches` and `operator.levels`. */
import type pg from 'pg';
import { centsOf } from '../upgrade';

type Db = Pick<pg.Pool, 'query'>;

export interface LevelRow {
  level_id: string;
  niche_id: string;
  name: string;
  order_position: number;
  max_recipients: number;
  price_per_lead_cents: number;
  active: boolean;
}

export interface NicheRow {
  niche_id: string;
  name: string;
  auto_distribute: boolean;
  next_start_order_position: number;
  created_at: Date;
  updated_at: Date;
  version: number;
}

export type NicheWithLevels = NicheRow & { levels: LevelRow[] };

const LEVELS = `select level_id, niche_id, name, order_position, max_recipients, price_per_lead_cents, active from operator.levels`;

/** The price is a bigint column (a decimal string from pg): a number from here on. */
function levelsOf(rows: readonly LevelRow[]): LevelRow[] {
  for (const row of rows) row.price_per_lead_cents = centsOf(row.price_per_lead_cents);
  return rows as LevelRow[];
}

export async function findNiche(db: Db, nicheId: string): Promise<NicheWithLevels | undefined> {
  const [niche, levels] = await Promise.all([
    db.query<NicheRow>(`select * from operator.niches where niche_id = $1`, [nicheId]),
    db.query<LevelRow>(`${LEVELS} where niche_id = $1 order by order_position`, [nicheId]),
  ]);
  const row = niche.rows[0];
  return row ? { ...row, levels: levelsOf(levels.rows) } : undefined;
}

/** Every niche with its levels, by name (a catalogue is small: tens to hundreds of niches). */
export async function listNiches(db: Db): Promise<NicheWithLevels[]> {
  const [niches, levels] = await Promise.all([
    db.query<NicheRow>(`select * from operator.niches order by name, niche_id`),
    db.query<LevelRow>(`${LEVELS} order by niche_id, order_position`),
  ]);
  const byNiche = new Map<string, LevelRow[]>();
  for (const level of levelsOf(levels.rows)) byNiche.set(level.niche_id, [...(byNiche.get(level.niche_id) ?? []), level]);
  return niches.rows.map((n) => ({ ...n, levels: byNiche.get(n.niche_id) ?? [] }));
}
