/**
 * The rationale as the check run shows it: the same Markdown (built by src/telemetry/render.ts, where every piece
 * of agent text is already escaped), turned into HTML by markdown-it and then passed through sanitize-html with an
 * allowlist close to what GitHub keeps (no script, no event handlers, no images, no styles; links only http(s)
 * and mailto). Two layers: if the escaping ever missed something, the sanitizer still removes it.
 */
import MarkdownIt from "markdown-it";
import sanitizeHtml from "sanitize-html";
import { raw, type Html } from "./html.js";

const markdown = new MarkdownIt({ html: true, linkify: false, typographer: false });
// An image would make the browser fetch an agent-chosen URL the moment the page opens.
markdown.disable(["image"]);

const ALLOWED: sanitizeHtml.IOptions = {
  allowedTags: [
    "h1", "h2", "h3", "h4", "h5", "h6", "p", "br", "hr", "blockquote", "pre", "code", "em", "strong", "del", "s",
    "ul", "ol", "li", "table", "thead", "tbody", "tr", "th", "td", "details", "summary", "a", "sup", "sub", "kbd",
  ],
  allowedAttributes: { a: ["href", "title"], th: ["align"], td: ["align"], ol: ["start"] },
  allowedSchemes: ["http", "https", "mailto"],
  allowedSchemesAppliedToAttributes: ["href"],
  allowProtocolRelative: false,
  disallowedTagsMode: "escape",
  transformTags: { a: sanitizeHtml.simpleTransform("a", { rel: "nofollow noopener noreferrer" }) },
};
ALLOWED.allowedAttributes = { ...ALLOWED.allowedAttributes, a: ["href", "title", "rel"] };

/** Markdown (GitHub-flavoured enough for our check runs) to safe HTML. */
export function renderMarkdown(text: string): Html {
  return raw(sanitizeHtml(markdown.render(text), ALLOWED));
}
