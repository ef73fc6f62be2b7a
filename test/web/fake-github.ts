/**
 * GitHub's OAuth web flow and the user endpoints the compliance pages call, faked by a local HTTP server on a
 * random port (the App is pointed at it with GHE_HOST / GHE_PROTOCOL=http, as for GitHub Enterprise Server).
 * Response shapes follow GitHub's REST docs ("List app installations accessible to the user access token",
 * "List repositories accessible to the user access token", "Exchange a code for a user access token").
 *
 * `/login/oauth/authorize` stands in for the person clicking "Authorize": it redirects straight back with a code.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeUser {
  login: string;
  /** installation id -> full names of the repositories the user can read through it. */
  installations: Record<number, string[]>;
}

export interface FakeGitHub {
  port: number;
  host: string;
  /** Who the next authorize visit signs in as. */
  signInAs(login: string): void;
  /** Makes every token of this user answer 401 from now on (revoked or expired). */
  revoke(login: string): void;
  setRepositories(login: string, installations: Record<number, string[]>): void;
  /** Requests seen, as "METHOD /path?query". */
  requests: string[];
  authorizeQueries: URLSearchParams[];
  close(): Promise<void>;
}

export const CLIENT_ID = "Iv1.fakeclientid0001";
export const CLIENT_SECRET = "fake-client-secret-0123456789abcdef";

function json(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8" }).end(JSON.stringify(body));
}

async function bodyOf(req: IncomingMessage): Promise<Record<string, string>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  if ((req.headers["content-type"] ?? "").includes("json")) return JSON.parse(text || "{}") as Record<string, string>;
  return Object.fromEntries(new URLSearchParams(text));
}

function repository(fullName: string, id: number) {
  const [owner, name] = fullName.split("/");
  return {
    id,
    node_id: `R_${id}`,
    name,
    full_name: fullName,
    private: true,
    owner: { login: owner, id: id + 1000, type: "Organization" },
    html_url: `https://github.example/${fullName}`,
    permissions: { admin: false, maintain: false, push: false, triage: false, pull: true },
  };
}

export async function startFakeGitHub(users: FakeUser[]): Promise<FakeGitHub> {
  const byLogin = new Map(users.map((u) => [u.login, { ...u }]));
  const codes = new Map<string, string>();
  const tokens = new Map<string, string>();
  const revoked = new Set<string>();
  const requests: string[] = [];
  const authorizeQueries: URLSearchParams[] = [];
  let next = users[0]?.login ?? "";

  const userOf = (req: IncomingMessage) => {
    const token = /^(?:token|bearer) (.+)$/i.exec(req.headers.authorization ?? "")?.[1];
    const login = token ? tokens.get(token) : undefined;
    return login && !revoked.has(login) ? byLogin.get(login) : undefined;
  };

  const server: Server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://fake");
    requests.push(`${req.method} ${url.pathname}${url.search}`);
    if (req.method === "GET" && url.pathname === "/login/oauth/authorize") {
      authorizeQueries.push(url.searchParams);
      const code = randomBytes(10).toString("hex");
      codes.set(code, next);
      const back = new URL(url.searchParams.get("redirect_uri") ?? "");
      back.searchParams.set("code", code);
      back.searchParams.set("state", url.searchParams.get("state") ?? "");
      res.writeHead(302, { location: back.toString() }).end();
      return;
    }
    if (req.method === "POST" && url.pathname === "/login/oauth/access_token") {
      const body = await bodyOf(req);
      const login = codes.get(body.code ?? "");
      if (body.client_id !== CLIENT_ID || body.client_secret !== CLIENT_SECRET || !login) {
        json(res, 200, { error: "bad_verification_code", error_description: "The code passed is incorrect or expired.", error_uri: "https://docs.github.com/apps/troubleshooting" });
        return;
      }
      codes.delete(body.code ?? "");
      const token = `ghu_${randomBytes(18).toString("hex")}`;
      tokens.set(token, login);
      json(res, 200, { access_token: token, expires_in: 28800, refresh_token: `ghr_${randomBytes(18).toString("hex")}`, refresh_token_expires_in: 15897600, scope: "", token_type: "bearer" });
      return;
    }
    const user = userOf(req);
    if (!user) {
      json(res, 401, { message: "Bad credentials", documentation_url: "https://docs.github.com/rest", status: "401" });
      return;
    }
    if (req.method === "GET" && url.pathname === "/api/v3/user") {
      json(res, 200, { login: user.login, id: 583231, type: "User", site_admin: false });
      return;
    }
    if (req.method === "GET" && url.pathname === "/api/v3/user/installations") {
      const installations = Object.keys(user.installations).map((id) => ({ id: Number(id), account: { login: "acme", id: 9, type: "Organization" }, app_id: 4242, target_type: "Organization", repository_selection: "selected", permissions: { pull_requests: "write", checks: "write" } }));
      json(res, 200, { total_count: installations.length, installations });
      return;
    }
    const match = /^\/api\/v3\/user\/installations\/(\d+)\/repositories$/.exec(url.pathname);
    if (req.method === "GET" && match) {
      const repos = user.installations[Number(match[1])];
      if (!repos) {
        json(res, 404, { message: "Not Found", documentation_url: "https://docs.github.com/rest", status: "404" });
        return;
      }
      json(res, 200, { total_count: repos.length, repository_selection: "selected", repositories: repos.map((r, i) => repository(r, 100 + i)) });
      return;
    }
    json(res, 404, { message: "Not Found", status: "404" });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    host: `127.0.0.1:${port}`,
    signInAs: (login) => {
      next = login;
    },
    revoke: (login) => {
      revoked.add(login);
    },
    setRepositories: (login, installations) => {
      const u = byLogin.get(login);
      if (u) u.installations = installations;
    },
    requests,
    authorizeQueries,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
