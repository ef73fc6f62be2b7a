ALTER TABLE "evaluations" ADD COLUMN "overridden_by" text;--> statement-breakpoint
ALTER TABLE "evaluations" ADD COLUMN "override_reason" text;