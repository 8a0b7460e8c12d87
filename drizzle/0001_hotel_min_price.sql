-- hotels.min_price_cents is the cheapest room type's base price, so hotel_search can sort by price
-- with an index. Statement-level triggers with transition tables keep it true for bulk writes too
-- (one UPDATE per statement, not one per row).
CREATE FUNCTION innkeep_refresh_hotel_min_price() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    UPDATE hotels h SET min_price_cents = (SELECT min(rt.base_price_cents) FROM room_types rt WHERE rt.hotel_id = h.id)
    WHERE h.id IN (SELECT DISTINCT hotel_id FROM new_rows);
  ELSIF TG_OP = 'UPDATE' THEN
    UPDATE hotels h SET min_price_cents = (SELECT min(rt.base_price_cents) FROM room_types rt WHERE rt.hotel_id = h.id)
    WHERE h.id IN (SELECT hotel_id FROM new_rows UNION SELECT hotel_id FROM old_rows);
  ELSE
    UPDATE hotels h SET min_price_cents = (SELECT min(rt.base_price_cents) FROM room_types rt WHERE rt.hotel_id = h.id)
    WHERE h.id IN (SELECT DISTINCT hotel_id FROM old_rows);
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER room_types_min_price_ins AFTER INSERT ON room_types
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION innkeep_refresh_hotel_min_price();
--> statement-breakpoint
CREATE TRIGGER room_types_min_price_upd AFTER UPDATE ON room_types
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION innkeep_refresh_hotel_min_price();
--> statement-breakpoint
CREATE TRIGGER room_types_min_price_del AFTER DELETE ON room_types
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION innkeep_refresh_hotel_min_price();
