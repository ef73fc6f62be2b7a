/** Network bits the tests that start servers share. */
import { createServer } from "node:net";

/**
 * A port nobody listens on right now: the OS picks one for a throw-away listener, which is closed at once. For
 * a server another process starts on it (a child process, a Postgres cluster), which cannot be asked to listen
 * on port 0 and say which port it got.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
