/**
 * Detectors that cannot be dodged: secrets anywhere in a line, hosts as the WHATWG URL parser sees them. App-level
 * cases are in test/app/detectors.test.ts; fuzzing and the time bound in test/fuzz/detectors.fuzz.test.ts.
 */
import { describe, expect, it } from "vitest";
import { detectNewHosts, hostsIn } from "../../src/policy/detectors/external-hosts.js";
import { detectSecrets } from "../../src/policy/detectors/secrets.js";
import { parsePatch } from "../../src/policy/patch.js";

const patch = (lines: string[]) => parsePatch(`@@ -1,${lines.length} +1,${lines.length} @@\n${lines.join("\n")}`);
const added = (...lines: string[]) => patch(lines.map((l) => `+${l}`));

describe("secrets anywhere in a line", () => {
  it("invariant 2 (judge everything): a token one megabyte into a line is found", () => {
    const token = `AKIA${"Q7".repeat(8)}`;
    expect(detectSecrets(added(`${"x".repeat(1_000_000)} ${token}`))).toEqual([{ line: 1, what: "an AWS access key id" }]);
  });

  it("invariant 2 (judge everything): a token at the very end of a 100,000-character minified line is found", () => {
    const token = `ghp_${"a1".repeat(18)}`;
    expect(detectSecrets(added(`${"a=b;".repeat(25_000)}t="${token}"`))).toEqual([{ line: 1, what: "a GitHub token" }]);
  });
});

describe("hosts as the URL parser sees them", () => {
  it.each([
    ["https://exfil%2eio/x", "exfil.io"],
    ["https://exfil%2Eio/x", "exfil.io"],
    ["https:\\\\exfil.io\\x", "exfil.io"],
    ["https:/exfil.io/x", "exfil.io"],
    ["https:exfil.io/x", "exfil.io"],
    ["https:\\/\\/exfil.io\\/x", "exfil.io"],
    ["https://exfil\\x2eio/x", "exfil.io"],
    ["https://exfil\\u002eio/x", "exfil.io"],
    ["https://good.com@exfil.io/x", "exfil.io"],
    ["https://good.com:pw@exfil.io:8443/x", "exfil.io"],
    ["HTTPS://EXFIL.IO./x", "exfil.io"],
    ["https://exfil。io/x", "exfil.io"],
    ["https://ｅｘｆｉｌ.io/x", "exfil.io"],
    ["https://bücher.de/x", "xn--bcher-kva.de"],
    ["wss://exfil.io/socket", "exfil.io"],
    ["http://3232235777/", "192.168.1.1"],
    ["http://0xc0a80101/", "192.168.1.1"],
    ["http://0300.0250.1.1/", "192.168.1.1"],
    ["http://192.168.257/", "192.168.1.1"],
    ["http://[0:0:0:0:0:ffff:c0a8:101]/", "[::ffff:c0a8:101]"],
  ])("%s reaches %s", (url, host) => {
    expect(hostsIn(`fetch("${url}")`)).toEqual([host]);
  });

  it("a space or a tab inside the literal does not hide the host (the parser encodes or drops them)", () => {
    expect(hostsIn('fetch("https://user name@exfil.io/x")')).toContain("exfil.io");
    expect(hostsIn('fetch("https://exf\til.io/x")')).toContain("exfil.io");
  });

  it("prose with several URLs keeps each host, and code that builds a URL names none", () => {
    expect(hostsIn("see https://a.dev and https://b.dev.")).toEqual(["a.dev", "b.dev"]);
    expect(hostsIn("const u = `https://${host}/x`;")).toEqual([]);
    expect(hostsIn('const scheme = "https:" + "//" + host;')).toEqual([]);
  });

  it("IP literals of any form are findings; loopback written plainly is not", () => {
    const hits = (line: string) => detectNewHosts(added(line)).map((h) => h.what);
    expect(hits('fetch("http://127.0.0.1:3000/x")')).toEqual([]);
    expect(hits('fetch("http://[::1]:3000/x")')).toEqual([]);
    expect(hits('fetch("http://localhost:3000/x")')).toEqual([]);
    expect(hits('fetch("http://0x7f.1:2375/")')).toEqual(["127.0.0.1 (an IP address in a disguised notation)"]);
    expect(hits('fetch("http://2130706433/")')).toEqual(["127.0.0.1 (an IP address in a disguised notation)"]);
    expect(hits('fetch("http://10.0.0.7/")')).toEqual(["10.0.0.7 (an IP address)"]);
    expect(hits('fetch("http://169.254.169.254/latest/meta-data/")')).toEqual(["169.254.169.254 (an IP address)"]);
    expect(hits('fetch("http://metadata.google.internal/computeMetadata/v1/")')).toEqual(["metadata.google.internal"]);
    expect(hits('fetch("http://api.corp.internal/")')).toEqual([]);
  });

  it("a host the diff already names is not new, in any spelling; a disguised IP is reported even then", () => {
    const lines = patch([' const base = "https://api.stripe.com";', '+fetch("https://API.STRIPE.COM./v1/x")', '+fetch("https://api%2estripe.com/v1/y")']);
    expect(detectNewHosts(lines)).toEqual([]);
    const ip = patch([' const hub = "http://10.0.0.7/";', '+fetch("http://10.0.0.7/x")', '+fetch("http://167772167/y")']);
    expect(detectNewHosts(ip)).toEqual([{ line: 3, what: "10.0.0.7 (an IP address in a disguised notation)" }]);
  });
});
