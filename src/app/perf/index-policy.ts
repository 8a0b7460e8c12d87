/**
 * Foreign keys the schema deliberately leaves without an index of their own, and why. An unindexed
 * foreign key costs a scan of the referencing table whenever a referenced row is deleted (or its key
 * changes); it is harmless while the app never does that. `innkeep perf check-indexes` reports these
 * as accepted, and fails on any other foreign key without a supporting index: add the index, or add
 * the key here with the reason it is not needed.
 */
export const ACCEPTED_UNINDEXED_FOREIGN_KEYS: Readonly<Record<string, string>> = {
  bookings_hotel_id_hotels_id_fk:
    'hotels are deactivated (is_active), never deleted; bookings are read by user, room type or status and dates',
  booking_daily_stats_hotel_id_hotels_id_fk:
    'hotels are deactivated (is_active), never deleted; the stats are read by day range (booking_daily_stats_pk)',
  bookings_trip_id_trips_id_fk:
    "trips are never deleted; a trip's bookings are read through bookings_user_created_idx (b.user_id = t.user_id)",
  price_drop_alerts_room_type_id_room_types_id_fk:
    'room types go only with their hotel, and hotels are deactivated, never deleted; alerts are read by user',
  security_events_user_id_users_id_fk:
    'users are never deleted (no account deletion yet: add (user_id) when it comes, or each delete scans the events)',
};
