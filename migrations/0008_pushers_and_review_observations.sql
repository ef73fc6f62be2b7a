CREATE TABLE "pull_request_pushers" (
	"repository" text NOT NULL,
	"pull_request" integer NOT NULL,
	"login" text NOT NULL,
	"head_sha" text,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "pull_request_pushers_pk" PRIMARY KEY("repository","pull_request","login")
);
--> statement-breakpoint
CREATE TABLE "review_observations" (
	"repository" text NOT NULL,
	"pull_request" integer NOT NULL,
	"review_id" bigint NOT NULL,
	"reviewer" text NOT NULL,
	"commit_id" text NOT NULL,
	"base_ref" text NOT NULL,
	"base_sha" text NOT NULL,
	"diff_fingerprint" char(64) NOT NULL,
	"observed_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "review_observations_pk" PRIMARY KEY("repository","pull_request","review_id")
);
