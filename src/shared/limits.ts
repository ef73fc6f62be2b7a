/**
 * GitHub's limits and the gate's own bounds, in one place (DESIGN.md "What GitHub allows"). Every room reads them
 * from here, so a limit GitHub changes is changed once.
 */

/** GitHub's pull request files API lists at most this many files; a pull request at or over it cannot be fully seen. */
export const MAX_LISTED_FILES = 3_000;

/** GitHub's limit for a check run's summary and for its text, in characters. */
export const CHECK_RUN_TEXT_LIMIT = 65_535;

/** GitHub accepts at most this many annotations in one check-run create or update request. */
export const ANNOTATIONS_PER_REQUEST = 50;

/** The most annotations the rationale check carries across all its requests. */
export const MAX_ANNOTATIONS = 500;

/** At most this many teams' members are read per evaluation; owners in further teams cannot count. */
export const MAX_TEAMS_PER_EVALUATION = 20;

/** A policy file larger than this is refused: no legitimate policy comes near it. */
export const MAX_POLICY_BYTES = 256 * 1024;

/**
 * A policy file (the base's, or one a pull request proposes: the attacker's) reports at most this many errors,
 * then one line saying how many more: a file with 40,000 mistakes must not cost 40,000 lookups or check lines.
 */
export const MAX_POLICY_ERRORS = 50;

/** Deeper YAML than this is refused before it is converted or validated; real policies nest 5 levels. */
export const MAX_POLICY_DEPTH = 32;

/** Aliases expanded when a policy's YAML is converted (the `yaml` package's billion-laughs guard). */
export const MAX_POLICY_ALIASES = 100;
