CREATE TABLE "check_runs" (
	"repository" text NOT NULL,
	"head_sha" text NOT NULL,
	"name" text NOT NULL,
	"check_run_id" bigint NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "check_runs_pk" PRIMARY KEY("repository","head_sha","name")
);
--> statement-breakpoint
CREATE TABLE "pending_work" (
	"key" text PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"installation_id" bigint,
	"work" jsonb NOT NULL,
	"deliveries" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "pending_work_updated_idx" ON "pending_work" USING btree ("updated_at");