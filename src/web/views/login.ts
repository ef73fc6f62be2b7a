/** The sign-in page, shown when auditor tokens are configured (otherwise /audit/login goes straight to GitHub). */
import { html, type Html } from "./html.js";
import { layout } from "./layout.js";

export function loginPage(input: { githubHref: string | null; tokens: boolean; next: string; error?: string | undefined }): Html {
  const body = html`<h1>Sign in</h1>
${input.error ? html`<div class="status status-broken" role="alert">${input.error}</div>` : ""}
${input.githubHref ? html`<p><a class="button" id="github-login" href="${input.githubHref}">Sign in with GitHub</a></p>` : html`<p class="muted">GitHub sign-in is not configured (GITHUB_CLIENT_ID / GITHUB_CLIENT_SECRET).</p>`}
${
  input.tokens
    ? html`<form method="post" action="/audit/login/token"><input type="hidden" name="next" value="${input.next}"><label>Auditor token <input type="password" name="token" autocomplete="off" required></label> <button type="submit">Sign in with a token</button></form>`
    : ""
}`;
  return layout({ title: "Sign in", viewer: null, body });
}
