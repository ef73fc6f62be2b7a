CREATE TABLE "pull_request_triggers" (
	"repository" text NOT NULL,
	"pull_request" integer NOT NULL,
	"triggered_by" text NOT NULL,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "pull_request_triggers_pk" PRIMARY KEY("repository","pull_request")
);
