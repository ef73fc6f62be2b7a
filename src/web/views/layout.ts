/** The page frame: header, navigation, the signed-in reader, and the stylesheet (no script anywhere). */
import { html, type Html } from "./html.js";

export interface Viewer {
  login: string;
  kind: "github" | "auditor";
}

export interface LayoutInput {
  title: string;
  viewer: Viewer | null;
  /** Which navigation entry is current. */
  section?: "prs" | "audit" | undefined;
  body: Html;
}

export function layout(input: LayoutInput): Html {
  const nav = (href: string, label: string, key: LayoutInput["section"]) =>
    html`<a href="${href}"${input.section === key ? html` aria-current="page"` : ""}>${label}</a>`;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${input.title} · Agent Gate</title>
<link rel="stylesheet" href="/audit/assets/style.css">
</head>
<body>
<header class="top">
  <span class="brand">Agent Gate</span>
  ${input.viewer ? html`<nav>${nav("/audit", "Agent PRs", "prs")} ${nav("/audit/log", "Audit log", "audit")}</nav>` : ""}
  ${
    input.viewer
      ? html`<form class="who" method="post" action="/audit/logout"><span>${input.viewer.login}${input.viewer.kind === "auditor" ? " (auditor token)" : ""}</span> <button type="submit">Sign out</button></form>`
      : ""
  }
</header>
<main>
${input.body}
</main>
</body>
</html>`;
}

export function messagePage(title: string, message: string, viewer: Viewer | null, extra: Html | string = ""): Html {
  return layout({ title, viewer, body: html`<h1>${title}</h1><p>${message}</p>${extra}` });
}
