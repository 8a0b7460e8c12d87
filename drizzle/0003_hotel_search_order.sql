DROP INDEX "hotels_active_city_stars_rating_idx";--> statement-breakpoint
DROP INDEX "hotels_active_rating_idx";--> statement-breakpoint
CREATE INDEX "hotels_active_city_rating_idx" ON "hotels" USING btree (lower("city"),"rating" DESC NULLS LAST,"review_count" DESC NULLS LAST,"id") WHERE "hotels"."is_active";--> statement-breakpoint
CREATE INDEX "hotels_active_city_stars_idx" ON "hotels" USING btree (lower("city"),"stars" DESC NULLS LAST,"rating" DESC NULLS LAST,"id") WHERE "hotels"."is_active";--> statement-breakpoint
CREATE INDEX "hotels_active_rating_idx" ON "hotels" USING btree ("rating" DESC NULLS LAST,"review_count" DESC NULLS LAST,"id") WHERE "hotels"."is_active";--> statement-breakpoint
-- Hand-written: statistics on lower(city) tell the planner how many hotels a city has (Paris holds a
-- quarter of the large dataset), so a filtered search by a big city walks the ordered index instead
-- of sorting the whole city. Expression indexes that are partial get no statistics of their own.
CREATE STATISTICS "hotels_lower_city_stats" ON (lower("city")) FROM "hotels";--> statement-breakpoint
ANALYZE "hotels";
