import { describe, expect, it } from "vitest";
import { escapeInline, escapeMarkdown } from "../../src/shared/markdown.js";
import { escapeMarkdown as policyEscape } from "../../src/policy/render.js";

describe("the one Markdown escaper", () => {
  it("the approval check and the rationale check escape a character the same way", () => {
    const hostile = "a*b_c `d` [e](f) <img> | # + ! ~ $ \" &";
    expect(policyEscape).toBe(escapeMarkdown);
    // escapeInline adds defanging (mentions, references, URLs) on top of the same character escaping.
    expect(escapeInline(hostile)).toBe(escapeMarkdown(hostile));
  });

  it("escapeMarkdown keeps a cell on one line and drops no text", () => {
    expect(escapeMarkdown("a\nb\u202Ec")).toBe("a b c");
    expect(escapeMarkdown("<script>")).toBe("&lt;script&gt;");
  });
});
