/** The telemetry room (pure): parse, redact, cross-check and render agent telemetry. See DESIGN.md, invariant 7. */
export * from "./bundle.js";
export * from "./model.js";
export { createParser, detectFormat, parseTranscript, parseNativeBundle, parseManifest, NativeBundleBuilder } from "./parse.js";
export type { TraceBuilder, ValueTraceBuilder } from "./parse.js";
export { redactText, redactTrace, redactAndTruncate } from "./redact.js";
export type { SecretKind } from "./redact.js";
export { crossCheck } from "./crosscheck.js";
export type { CrossCheckResult, PullRequestFile } from "./crosscheck.js";
export { renderRationaleMarkdown, formatDuration, GITHUB_TEXT_LIMIT, RATIONALE_CHECK_NAME } from "./render.js";
export type { RenderOptions, RenderedCheck } from "./render.js";
export { buildAnnotations, batchAnnotations, parseFileRef, MAX_ANNOTATIONS, ANNOTATIONS_PER_REQUEST } from "./annotations.js";
export type { CheckAnnotation } from "./annotations.js";
export { checkProvenance, normalizeWorkflowPath } from "./provenance.js";
export type { ProvenanceInput, ProvenanceResult, ProvenanceRun, ProvenancePullRequest } from "./provenance.js";
export { parseTelemetryArtifact, readArtifactZip, DEFAULT_ARTIFACT_LIMITS } from "./artifact.js";
export type { ArtifactLimits, ParsedArtifact } from "./artifact.js";
export { escapeInline, escapeBlockquote, codeSpan, codeFence, plainText } from "../shared/markdown.js";
export { DECISION_SERVER, DECISION_TOOL } from "./tools.js";
