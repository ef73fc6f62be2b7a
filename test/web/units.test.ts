/** The pure pieces of the compliance pages, alone: filters, charts, Markdown sanitising, tokens, sessions, access. */
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { AccessResolver, UserTokenInvalidError } from "../../src/web/access.js";
import { matchAuditorToken, parseAuditorTokens } from "../../src/web/auditor-tokens.js";
import { safeNext } from "../../src/web/auth-routes.js";
import { dayRange, filterQuery, parseListFilters } from "../../src/web/filters.js";
import { openToken, sealToken } from "../../src/web/sessions.js";
import { approvalBuckets, approvalTimeChart, niceMax, perWeekChart } from "../../src/web/views/charts.js";
import { html } from "../../src/web/views/html.js";
import { renderMarkdown } from "../../src/web/views/markdown.js";
import { webConfigFromEnv, WebConfigError } from "../../src/web/index.js";

const sha = (s: string) => createHash("sha256").update(s).digest("hex");

describe("list filters in the URL", () => {
  it("parses every filter and writes them back in a fixed order", () => {
    const { filters, errors } = parseListFilters(new URLSearchParams("risk=high&decision=waiting&repository=acme/api&agent=codex&from=2026-01-01&to=2026-01-31&page=3"));
    expect(errors).toEqual([]);
    expect(filters).toEqual({ repository: "acme/api", risk: "high", decision: "waiting", agent: "codex", from: "2026-01-01", to: "2026-01-31", page: 3 });
    expect(filterQuery(filters)).toBe("?repository=acme%2Fapi&risk=high&decision=waiting&agent=codex&from=2026-01-01&to=2026-01-31&page=3");
    expect(filterQuery(filters, { page: 1 })).not.toContain("page=");
    expect(dayRange(filters)).toEqual({ from: new Date("2026-01-01T00:00:00Z"), to: new Date("2026-02-01T00:00:00Z") });
  });

  it("reports a bad value instead of widening it to everything", () => {
    const { filters, errors } = parseListFilters(new URLSearchParams("risk=huge&decision=abandoned&repository=../etc&from=yesterday&page=0"));
    expect(filters).toEqual({ page: 1 });
    expect(errors).toHaveLength(5);
    expect(errors[0]).toContain("repository must look like OWNER/NAME");
  });
});

describe("SVG charts", () => {
  it("stack PRs per week by risk, with empty weeks in between, and no script or style", () => {
    const svg = String(perWeekChart([
      { week: new Date("2026-03-02T00:00:00Z"), risk: "low", count: 2 },
      { week: new Date("2026-03-16T00:00:00Z"), risk: "critical", count: 1 },
    ]));
    expect(svg.match(/<rect [^>]*><title>/g)).toHaveLength(2);
    expect(svg).toContain("03-09");
    expect(svg).toContain("03-16: 1 critical");
    expect(svg).not.toMatch(/<script|style=/);
  });

  it("bucket the time from opened to approved", () => {
    expect(approvalBuckets([60, 3 * 3600, 30 * 3600, 10 * 86400])).toEqual([1, 1, 0, 1, 0, 1]);
    expect(String(approvalTimeChart([]))).toContain("no data");
    expect([niceMax(0), niceMax(3), niceMax(11), niceMax(51)]).toEqual([1, 5, 20, 100]);
  });
});

describe("escaping and the rationale's Markdown", () => {
  it("templates escape every interpolated string", () => {
    expect(String(html`<p title="${'" onmouseover="x'}">${"<script>alert(1)</script>"}</p>`)).toBe('<p title="&quot; onmouseover=&quot;x">&lt;script&gt;alert(1)&lt;/script&gt;</p>');
  });

  it("keeps GitHub's constructs (tables, details) and drops script, handlers, images and javascript: links", () => {
    const out = String(
      renderMarkdown(
        "| a | b |\n|---|---|\n| 1 | 2 |\n\n<details><summary>More</summary>\n\nok\n\n</details>\n\n<script>alert(1)</script><img src=x onerror=alert(1)>\n\n[x](javascript:alert(1)) ![t](http://198.51.100.7/t.png) <a href=\"javascript:alert(2)\" onclick=\"alert(3)\">y</a> <svg onload=alert(4)></svg> [ok](https://example.com/)",
      ),
    );
    expect(out).toContain("<table>");
    expect(out).toContain("<details><summary>More</summary>");
    expect(out).not.toMatch(/<script|<img|<svg|onerror=|onclick=|onload=|href="javascript:/i);
    expect(out).toContain('<a href="https://example.com/" rel="nofollow noopener noreferrer">ok</a>');
  });
});

describe("auditor tokens", () => {
  it("are configured as hashes and matched in constant time", () => {
    const tokens = parseAuditorTokens(`ext-auditor:${sha("s3cret-token-value")}:acme/api,acme/web; all-seeing:${sha("other")}:*`);
    expect(tokens.map((t) => [t.name, t.repositories])).toEqual([["ext-auditor", ["acme/api", "acme/web"]], ["all-seeing", "all"]]);
    expect(matchAuditorToken(tokens, "s3cret-token-value")?.name).toBe("ext-auditor");
    expect(matchAuditorToken(tokens, sha("s3cret-token-value"))).toBeNull();
    expect(matchAuditorToken(tokens, "")).toBeNull();
  });

  it("a malformed entry is a clear error naming it", () => {
    expect(() => parseAuditorTokens("a:notahash:*")).toThrow("entry 1 (a): the hash must be 64 hex digits");
    expect(() => parseAuditorTokens(`a:${sha("x")}:not a repo`)).toThrow("repositories must be * or owner/name");
  });
});

describe("sessions and access", () => {
  it("a sealed token opens only with its own session id", () => {
    const id = "A".repeat(43);
    const sealed = sealToken("ghu_secret", id);
    expect(sealed).not.toContain("ghu_secret");
    expect(openToken(sealed, id)).toBe("ghu_secret");
    expect(openToken(sealed, "B".repeat(43))).toBeNull();
    // Flip a character in the middle: the last base64url character may carry only padding bits, so changing it
    // sometimes leaves the bytes as they were (the test failed about once in 64 runs).
    const middle = Math.floor(sealed.length / 2);
    const flipped = sealed.slice(0, middle) + (sealed[middle] === "A" ? "B" : "A") + sealed.slice(middle + 1);
    expect(openToken(flipped, id)).toBeNull();
  });

  it("asks GitHub again once the cache is older than its lifetime, and a removed auditor token ends the session", async () => {
    let now = 0;
    let calls = 0;
    let repos = ["acme/a", "acme/b"];
    const access = new AccessResolver({
      readableWithToken: async () => (calls++, repos),
      recordedRepositories: async () => ["acme/x"],
      auditorTokens: [{ name: "aud", sha256: Buffer.alloc(32), repositories: "all" }],
      ttlMs: 1000,
      clock: () => now,
    });
    const session = { id: "i", idHash: "h", kind: "github" as const, login: "alice", token: "t", expiresAt: new Date(0) };
    expect(await access.readable(session)).toEqual(["acme/a", "acme/b"]);
    repos = ["acme/a"];
    now = 999;
    expect(await access.readable(session)).toEqual(["acme/a", "acme/b"]);
    now = 1000;
    expect(await access.readable(session)).toEqual(["acme/a"]);
    expect(calls).toBe(2);
    expect(await access.readable({ ...session, idHash: "h2", kind: "auditor", login: "aud", token: null })).toEqual(["acme/x"]);
    await expect(access.readable({ ...session, idHash: "h3", kind: "auditor", login: "gone", token: null })).rejects.toBeInstanceOf(UserTokenInvalidError);
  });

  it("after sign-in only a path of these pages is a target (no open redirect)", () => {
    expect(safeNext("/audit/pr/acme/api/1?x=1")).toBe("/audit/pr/acme/api/1?x=1");
    for (const bad of ["//evil.example/audit", "https://evil.example/", "/auditx/../", "/\\evil", "/audit/login?next=/x", undefined]) expect(safeNext(bad)).toBe(bad === "/auditx/../" ? "/auditx/../" : "/audit");
  });
});

describe("settings", () => {
  it("derive GitHub Enterprise URLs from GHE_HOST and refuse malformed values", () => {
    const config = webConfigFromEnv({ GHE_HOST: "ghe.example.com", GITHUB_CLIENT_ID: "id", GITHUB_CLIENT_SECRET: "s", AGENT_GATE_PUBLIC_URL: "https://gate.example.com/ignored/path" }, "KEY");
    expect(config.oauth).toEqual({ clientId: "id", clientSecret: "s", apiBaseUrl: "https://ghe.example.com/api/v3" });
    expect(config.links.webBaseUrl).toBe("https://ghe.example.com");
    expect(config.publicUrl).toBe("https://gate.example.com");
    expect(webConfigFromEnv({}, "KEY").oauth).toBeNull();
    expect(webConfigFromEnv({}, "KEY").sessionSecret).toBe(webConfigFromEnv({}, "KEY").sessionSecret);
    expect(webConfigFromEnv({}, "KEY").sessionSecret).not.toBe(webConfigFromEnv({}, "OTHER").sessionSecret);
    expect(() => webConfigFromEnv({ AGENT_GATE_PUBLIC_URL: "ftp://x" }, "KEY")).toThrow(WebConfigError);
    expect(() => webConfigFromEnv({ AGENT_GATE_SESSION_SECRET: "short" }, "KEY")).toThrow("at least 32 characters");
  });
});
