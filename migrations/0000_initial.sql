CREATE TABLE "approvals" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"evaluation_id" bigint NOT NULL,
	"reviewer" text NOT NULL,
	"state" text NOT NULL,
	"commit_id" text,
	"counted" boolean NOT NULL,
	"reason" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "audit_log" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"created_at" timestamp (3) with time zone NOT NULL,
	"kind" text NOT NULL,
	"repository" text,
	"pull_request" integer,
	"delivery_id" text,
	"payload" text NOT NULL,
	"prev_hash" char(64) NOT NULL,
	"hash" char(64) NOT NULL,
	CONSTRAINT "audit_log_prev_hash_uq" UNIQUE("prev_hash"),
	CONSTRAINT "audit_log_hash_uq" UNIQUE("hash")
);
--> statement-breakpoint
CREATE TABLE "evaluations" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"repository" text NOT NULL,
	"pull_request" integer NOT NULL,
	"head_sha" text NOT NULL,
	"base_ref" text NOT NULL,
	"base_sha" text NOT NULL,
	"policy_source" text NOT NULL,
	"policy_commit" text,
	"codeowners_path" text,
	"codeowners_commit" text,
	"inputs_digest" char(64) NOT NULL,
	"risk" text NOT NULL,
	"findings" jsonb NOT NULL,
	"requirements" jsonb NOT NULL,
	"decision" text NOT NULL,
	"conclusion" text,
	"check_run_id" bigint,
	"delivery_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "installations" (
	"id" bigint PRIMARY KEY NOT NULL,
	"account_login" text NOT NULL,
	"account_type" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"suspended_at" timestamp with time zone,
	"deleted_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "pull_request_heads" (
	"repository" text NOT NULL,
	"pull_request" integer NOT NULL,
	"head_sha" text NOT NULL,
	"head_updated_at" timestamp with time zone NOT NULL,
	"observed_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "pull_request_heads_pk" PRIMARY KEY("repository","pull_request")
);
--> statement-breakpoint
CREATE TABLE "repositories" (
	"id" bigint PRIMARY KEY NOT NULL,
	"installation_id" bigint,
	"full_name" text NOT NULL,
	"private" boolean,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "review_requests" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"repository" text NOT NULL,
	"pull_request" integer NOT NULL,
	"reviewer" text NOT NULL,
	"head_sha" text,
	"requested_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "telemetry_discrepancies" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"telemetry_run_id" bigint NOT NULL,
	"kind" text NOT NULL,
	"path" text,
	"detail" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "telemetry_runs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"repository" text NOT NULL,
	"pull_request" integer NOT NULL,
	"head_sha" text NOT NULL,
	"workflow_run_id" bigint NOT NULL,
	"workflow_path" text,
	"artifact_id" bigint,
	"format" text NOT NULL,
	"accepted" boolean NOT NULL,
	"reasons" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"agent" text,
	"model" text,
	"counts" jsonb DEFAULT '{}'::jsonb NOT NULL,
	"trace" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "webhook_deliveries" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"guid" text NOT NULL,
	"installation_id" bigint DEFAULT 0 NOT NULL,
	"event" text NOT NULL,
	"action" text,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"attempts" integer DEFAULT 1 NOT NULL,
	"outcome" text DEFAULT 'pending' NOT NULL,
	"error" text,
	"finished_at" timestamp with time zone,
	CONSTRAINT "webhook_deliveries_outcome_ck" CHECK ("webhook_deliveries"."outcome" in ('pending', 'processed', 'skipped', 'failed'))
);
--> statement-breakpoint
ALTER TABLE "approvals" ADD CONSTRAINT "approvals_evaluation_id_evaluations_id_fk" FOREIGN KEY ("evaluation_id") REFERENCES "public"."evaluations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "telemetry_discrepancies" ADD CONSTRAINT "telemetry_discrepancies_telemetry_run_id_telemetry_runs_id_fk" FOREIGN KEY ("telemetry_run_id") REFERENCES "public"."telemetry_runs"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "approvals_evaluation_idx" ON "approvals" USING btree ("evaluation_id");--> statement-breakpoint
CREATE INDEX "audit_log_repository_idx" ON "audit_log" USING btree ("repository","id");--> statement-breakpoint
CREATE INDEX "audit_log_created_at_idx" ON "audit_log" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "evaluations_pr_idx" ON "evaluations" USING btree ("repository","pull_request","id");--> statement-breakpoint
CREATE INDEX "evaluations_head_idx" ON "evaluations" USING btree ("repository","head_sha");--> statement-breakpoint
CREATE INDEX "repositories_full_name_idx" ON "repositories" USING btree ("full_name");--> statement-breakpoint
CREATE UNIQUE INDEX "review_requests_pr_reviewer_uq" ON "review_requests" USING btree ("repository","pull_request","reviewer");--> statement-breakpoint
CREATE INDEX "telemetry_discrepancies_run_idx" ON "telemetry_discrepancies" USING btree ("telemetry_run_id");--> statement-breakpoint
CREATE UNIQUE INDEX "telemetry_runs_pr_run_uq" ON "telemetry_runs" USING btree ("repository","pull_request","workflow_run_id");--> statement-breakpoint
CREATE INDEX "telemetry_runs_head_idx" ON "telemetry_runs" USING btree ("repository","head_sha");--> statement-breakpoint
CREATE UNIQUE INDEX "webhook_deliveries_installation_guid_uq" ON "webhook_deliveries" USING btree ("installation_id","guid");