CREATE TABLE "booking_daily_stats" (
	"day" date NOT NULL,
	"hotel_id" integer NOT NULL,
	"currency" char(3) NOT NULL,
	"bookings" integer NOT NULL,
	"cancelled" integer NOT NULL,
	"nights" integer NOT NULL,
	"revenue_cents" bigint NOT NULL,
	"aggregated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "booking_daily_stats_pk" PRIMARY KEY("day","hotel_id","currency")
);
--> statement-breakpoint
CREATE TABLE "booking_stats_days" (
	"day" date PRIMARY KEY NOT NULL,
	"aggregated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "booking_daily_stats" ADD CONSTRAINT "booking_daily_stats_day_booking_stats_days_day_fk" FOREIGN KEY ("day") REFERENCES "public"."booking_stats_days"("day") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "booking_daily_stats" ADD CONSTRAINT "booking_daily_stats_hotel_id_hotels_id_fk" FOREIGN KEY ("hotel_id") REFERENCES "public"."hotels"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "refresh_tokens_expires_idx" ON "refresh_tokens" USING btree ("expires_at");