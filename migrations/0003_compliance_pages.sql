CREATE TABLE "pull_requests" (
	"repository" text NOT NULL,
	"pull_request" integer NOT NULL,
	"title" text NOT NULL,
	"author" text,
	"opened_at" timestamp with time zone,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "pull_requests_pk" PRIMARY KEY("repository","pull_request")
);
--> statement-breakpoint
CREATE TABLE "web_sessions" (
	"id_hash" char(64) PRIMARY KEY NOT NULL,
	"kind" text NOT NULL,
	"login" text NOT NULL,
	"token_sealed" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	CONSTRAINT "web_sessions_kind_ck" CHECK ("web_sessions"."kind" in ('github', 'auditor'))
);
--> statement-breakpoint
CREATE INDEX "pull_requests_opened_at_idx" ON "pull_requests" USING btree ("opened_at");--> statement-breakpoint
CREATE INDEX "web_sessions_expires_at_idx" ON "web_sessions" USING btree ("expires_at");