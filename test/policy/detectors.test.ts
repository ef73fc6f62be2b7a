import { describe, expect, it } from "vitest";
import { DETECTORS, DETECTOR_REGISTRY } from "../../src/policy/detectors/index.js";
import { policyJsonSchema } from "../../src/policy/config.js";
import { assessRisk } from "../../src/policy/risk.js";
import { file, policy, pr } from "./engine-helpers.js";

describe("detector registry", () => {
  it("the policy schema's detect enum and its documentation come from the registry", () => {
    const text = JSON.stringify(policyJsonSchema());
    for (const d of DETECTOR_REGISTRY) {
      expect(text).toContain(`\`${d.id}\` (${d.description})`);
    }
    expect(DETECTORS).toEqual(DETECTOR_REGISTRY.map((d) => d.id));
    expect(new Set(DETECTORS).size).toBe(DETECTORS.length);
  });

  it.each(DETECTOR_REGISTRY.map((d) => d.id))(
    "invariant 2: a text file without its patch fails closed under a rule detecting %s, and the detector reports nothing it could not read",
    (id) => {
      const p = policy(`risk:\n  extends: none\n  rules:\n    - id: probe\n      detect: ${id}\n      level: medium\n`);
      const { findings } = assessRisk({ policy: p, files: [file("src/huge.ts", { patch: undefined, additions: 900, changes: 900 })], pr: pr() });
      expect(findings.map((f) => f.rule)).toEqual(["evaluation-incomplete"]);
    },
  );
});
