/**
 * Which process made a connection to the egress proxy: the client's port → the socket's inode and uid in
 * /proc/net/tcp(6) → the process holding that inode among /proc/<pid>/fd → its command line. Linux only; the
 * action runs as root (or the runner user, who can then see only its own processes: the lookup says so by
 * returning the uid alone).
 */
import { readdir, readFile, readlink } from "node:fs/promises";

export interface SocketOwner {
  pid?: number;
  uid: number;
  command?: string;
}

export interface ProcSocket {
  localPort: number;
  remotePort: number;
  uid: number;
  inode: number;
}

/** Parses /proc/net/tcp or /proc/net/tcp6 (address:port in hex, uid and inode in decimal). */
export function parseProcNetTcp(text: string): ProcSocket[] {
  const out: ProcSocket[] = [];
  for (const line of text.split("\n").slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 10) continue;
    const local = cols[1]?.split(":")[1];
    const remote = cols[2]?.split(":")[1];
    const uid = Number(cols[7]);
    const inode = Number(cols[9]);
    if (!local || !remote || !Number.isInteger(uid) || !Number.isInteger(inode)) continue;
    out.push({ localPort: parseInt(local, 16), remotePort: parseInt(remote, 16), uid, inode });
  }
  return out;
}

const MAX_COMMAND = 500;

async function commandOf(pid: number): Promise<string | undefined> {
  const raw = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
  const command = raw.split("\0").filter(Boolean).join(" ").slice(0, MAX_COMMAND);
  return command || undefined;
}

/** The process whose fd table holds `socket:[inode]`; null when none of the readable ones does. */
async function pidOfInode(inode: number): Promise<number | null> {
  const target = `socket:[${inode}]`;
  const pids = (await readdir("/proc").catch(() => [])).filter((n) => /^\d+$/.test(n));
  for (const pid of pids) {
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => []);
    for (const fd of fds) {
      if ((await readlink(`/proc/${pid}/fd/${fd}`).catch(() => "")) === target) return Number(pid);
    }
  }
  return null;
}

/**
 * The owner of the client end of a loopback connection to the proxy (client port → proxy port), or null when
 * /proc does not show it (not Linux, or the connection already closed).
 */
export async function socketOwner(clientPort: number, proxyPort: number): Promise<SocketOwner | null> {
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    const text = await readFile(table, "utf8").catch(() => "");
    const socket = parseProcNetTcp(text).find((s) => s.localPort === clientPort && s.remotePort === proxyPort);
    if (!socket) continue;
    const pid = await pidOfInode(socket.inode);
    if (pid === null) return { uid: socket.uid };
    const command = await commandOf(pid);
    return { pid, uid: socket.uid, ...(command ? { command } : {}) };
  }
  return null;
}
