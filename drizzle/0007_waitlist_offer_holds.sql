ALTER TABLE "waitlist" ADD COLUMN "offer_expires_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "waitlist_status_offer_expires_idx" ON "waitlist" USING btree ("status","offer_expires_at");--> statement-breakpoint
-- Hand-written: offers made before this migration held no room and had no expiry. They go back to
-- waiting (keeping their place in the queue), so that every 'offered' entry holds its rooms and the
-- CHECK below holds.
UPDATE "waitlist" SET "status" = 'waiting', "offered_at" = NULL WHERE "status" = 'offered' AND "offer_expires_at" IS NULL;--> statement-breakpoint
ALTER TABLE "waitlist" ADD CONSTRAINT "waitlist_offer_expires_ck" CHECK ("waitlist"."status" <> 'offered' OR "waitlist"."offer_expires_at" IS NOT NULL);
