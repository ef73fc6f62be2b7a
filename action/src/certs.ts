/**
 * The per-run certificate authority the egress proxy uses to terminate TLS for the model API hosts (and only
 * those), made with the runner's openssl. The CA is name-constrained to those hosts, valid for two days, and
 * its key never leaves a directory only the action's user can read; the agent gets the CA certificate alone.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { runCommand } from "./exec.js";

export interface KeyPair {
  key: string;
  cert: string;
}

export class CertificateError extends Error {
  override name = "CertificateError";
}

async function openssl(args: string[], cwd: string): Promise<void> {
  const r = await runCommand("openssl", args, { cwd });
  if (r.exitCode !== 0) throw new CertificateError(`openssl ${args[0]} failed (${r.exitCode ?? r.signal}): ${(r.stderr || r.stdout).trim().slice(0, 500)}`);
}

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

/**
 * A CA that can only vouch for `hosts` (nameConstraints), and one leaf certificate for all of them.
 * @throws CertificateError when openssl is missing or refuses.
 */
export async function makeRunCertificates(hosts: readonly string[], options: { days?: number } = {}): Promise<{ ca: KeyPair; leaf: KeyPair }> {
  if (hosts.length === 0) throw new CertificateError("no host to make a certificate for");
  const dir = await mkdtemp(path.join(os.tmpdir(), "agent-gate-ca-"));
  const days = String(options.days ?? 2);
  try {
    const permitted = hosts.map((h) => `permitted;DNS:${h}`).join(",");
    await openssl(
      ["req", "-x509", ...EC, "-keyout", "ca.key", "-out", "ca.pem", "-days", days, "-subj", "/CN=Agent Gate per-run CA",
        "-addext", "basicConstraints=critical,CA:TRUE,pathlen:0", "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-addext", `nameConstraints=critical,${permitted}`],
      dir,
    );
    await openssl(["req", ...EC, "-keyout", "leaf.key", "-out", "leaf.csr", "-subj", `/CN=${hosts[0]}`], dir);
    const ext = [
      "basicConstraints=critical,CA:FALSE",
      "keyUsage=critical,digitalSignature",
      "extendedKeyUsage=serverAuth",
      `subjectAltName=${hosts.map((h) => `DNS:${h}`).join(",")}`,
      "",
    ].join("\n");
    await writeFile(path.join(dir, "leaf.ext"), ext);
    await openssl(["x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", days, "-sha256", "-extfile", "leaf.ext", "-out", "leaf.pem"], dir);
    const read = (f: string): Promise<string> => readFile(path.join(dir, f), "utf8");
    return { ca: { key: await read("ca.key"), cert: await read("ca.pem") }, leaf: { key: await read("leaf.key"), cert: await read("leaf.pem") } };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
