import type { SeedScale } from '../../platform/config/index.ts';

export interface SeedSize {
  readonly hotels: number;
  /** Room types per hotel are uniform in [min, max]. */
  readonly roomTypesPerHotel: { readonly min: number; readonly max: number };
  /** Nights of room_inventory per room type, starting at `today`. */
  readonly inventoryDays: number;
  /** Regular users; the admin comes on top. */
  readonly users: number;
  readonly bookings: number;
  readonly reviews: number;
  readonly trips: number;
  readonly waitlist: number;
  /** Weekly price_history rows per room type, the newest being the current base price. */
  readonly priceHistoryPerRoomType: number;
}

const ROOM_TYPES_PER_HOTEL = { min: 2, max: 6 } as const;

export const SEED_SIZES: Record<SeedScale, SeedSize> = {
  small: {
    hotels: 1_000,
    roomTypesPerHotel: ROOM_TYPES_PER_HOTEL,
    inventoryDays: 60,
    users: 2_000,
    bookings: 20_000,
    reviews: 10_000,
    trips: 40,
    waitlist: 30,
    priceHistoryPerRoomType: 4,
  },
  medium: {
    hotels: 20_000,
    roomTypesPerHotel: ROOM_TYPES_PER_HOTEL,
    inventoryDays: 60,
    users: 100_000,
    bookings: 1_000_000,
    reviews: 200_000,
    trips: 1_000,
    waitlist: 500,
    priceHistoryPerRoomType: 4,
  },
  large: {
    hotels: 100_000,
    roomTypesPerHotel: ROOM_TYPES_PER_HOTEL,
    inventoryDays: 60,
    users: 500_000,
    bookings: 5_000_000,
    reviews: 1_000_000,
    trips: 5_000,
    waitlist: 2_500,
    priceHistoryPerRoomType: 4,
  },
};
