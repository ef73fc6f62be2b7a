/**
 * The detector registry: every built-in check a risk rule can name in `detect:`. The policy schema (the enum and
 * its documentation) and the risk engine derive from this list, so a detector is added
 * by writing its file and adding it here, nowhere else.
 */
import { externalHosts } from "./external-hosts.js";
import { newExecutable } from "./new-executable.js";
import { newSymlink } from "./new-symlink.js";
import { packageScripts } from "./package-scripts.js";
import { secrets } from "./secrets.js";
import { submodules } from "./submodules.js";
import { dependencyAdded } from "./dependency-added.js";
import { workflowRiskDetector } from "./workflow-risk.js";

export const DETECTOR_REGISTRY = [secrets, externalHosts, packageScripts, newSymlink, newExecutable, workflowRiskDetector, dependencyAdded, submodules] as const;

export type DetectorId = (typeof DETECTOR_REGISTRY)[number]["id"];

/** The ids, as the schema's enum needs them (a non-empty tuple). */
export const DETECTORS = DETECTOR_REGISTRY.map((d) => d.id) as [DetectorId, ...DetectorId[]];

const BY_ID: ReadonlyMap<string, (typeof DETECTOR_REGISTRY)[number]> = new Map(DETECTOR_REGISTRY.map((d) => [d.id, d]));

export function detectorById(id: DetectorId): (typeof DETECTOR_REGISTRY)[number] {
  const d = BY_ID.get(id);
  if (!d) throw new Error(`unknown detector "${id}"`);
  return d;
}

export type { Detector, DetectorInput, Hit } from "./types.js";
