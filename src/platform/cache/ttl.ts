/** The TTL presets every namespace picks from; their lengths come from config (CACHE_TTL_*_S). */
export const TTL_PRESETS = ['VERY_SHORT', 'SHORT', 'MEDIUM', 'LONG', 'VERY_LONG'] as const;
export type TtlPreset = (typeof TTL_PRESETS)[number];

export interface TtlSeconds {
  readonly veryShort: number;
  readonly short: number;
  readonly medium: number;
  readonly long: number;
  readonly veryLong: number;
}

export function presetSeconds(ttl: TtlSeconds, preset: TtlPreset): number {
  switch (preset) {
    case 'VERY_SHORT':
      return ttl.veryShort;
    case 'SHORT':
      return ttl.short;
    case 'MEDIUM':
      return ttl.medium;
    case 'LONG':
      return ttl.long;
    case 'VERY_LONG':
      return ttl.veryLong;
  }
}

const QUARTER_HOUR_MS = 15 * 60_000;

/**
 * Milliseconds until the next quarter hour (UTC). Every time zone's offset is a multiple of 15
 * minutes, so a hotel-local midnight always falls on one: an answer that depends on "today" somewhere
 * is never kept past the boundary where it could change.
 */
export function msUntilNextQuarterHour(now = Date.now()): number {
  return QUARTER_HOUR_MS - (now % QUARTER_HOUR_MS);
}
