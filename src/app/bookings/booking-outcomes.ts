import type { Metrics } from '../../platform/observability/index.ts';

export type BookingOutcome = 'created' | 'sold_out' | 'cancelled' | 'replayed';

/** Where booking outcomes are counted (`innkeep_bookings_total{outcome}`). */
export interface BookingOutcomes {
  record(outcome: BookingOutcome): void;
}

/** Counts into `metrics`, or nowhere when metrics are off. */
export function bookingOutcomes(metrics: Metrics | undefined): BookingOutcomes {
  if (!metrics) return { record: () => undefined };
  const counter = metrics.counter('innkeep_bookings_total', 'Booking requests by outcome', ['outcome']);
  return { record: (outcome) => counter.inc({ outcome }) };
}
