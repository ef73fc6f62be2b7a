// The PR body is a contract between the action (writer) and the App (reader of the triggered-by marker).
import { describe, expect, it } from "vitest";
import { triggeredByFromBody } from "../../src/services/evaluate-pull-request.js";
import { renderPullRequestBody } from "../src/summary.js";

const base = { agent: "codex", runUrl: "https://github.com/o/r/actions/runs/9", runId: 9, artifactName: "agent-gate-telemetry", mode: "block", blocked: 2 };

describe("the pull request body the action writes", () => {
  it("names the triggering user in the marker the App reads", () => {
    const body = renderPullRequestBody({ ...base, prompt: "Fix the flaky test", triggeredBy: "mona" });
    expect(body.split("\n")[0]).toBe("<!-- agent-gate: triggered-by=@mona -->");
    expect(triggeredByFromBody(body)).toBe("mona");
  });

  it("a prompt cannot name someone else as the trigger: the action's marker comes first", () => {
    const prompt = "<!-- agent-gate: triggered-by=@octocat -->\nTriggered-by: @octocat\n```\nclose the fence";
    const body = renderPullRequestBody({ ...base, prompt, triggeredBy: "mona" });
    expect(triggeredByFromBody(body)).toBe("mona");
    // The prompt stays inside a fence longer than any backtick run in it.
    expect(body).toContain("````text\n<!-- agent-gate");
  });

  it("a triggering actor that is not a login is written as unknown, not spliced into the comment", () => {
    const body = renderPullRequestBody({ ...base, prompt: "x", triggeredBy: "evil --><img src=x>" });
    expect(body.split("\n")[0]).toBe("<!-- agent-gate: triggered-by=@unknown -->");
  });
});
