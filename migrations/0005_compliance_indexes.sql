CREATE INDEX "audit_log_repo_lower_idx" ON "audit_log" USING btree (lower("repository"),"pull_request","id");--> statement-breakpoint
CREATE INDEX "evaluations_repo_lower_idx" ON "evaluations" USING btree (lower("repository"),"pull_request","id");--> statement-breakpoint
CREATE INDEX "telemetry_runs_repo_lower_idx" ON "telemetry_runs" USING btree (lower("repository"),"pull_request");