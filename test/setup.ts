import nock from "nock";
import { afterEach } from "vitest";

// GitHub is the one thing we fake; nothing in a test may reach the network.
// Loopback stays open for the real Postgres server and local fake servers.
nock.disableNetConnect();
nock.enableNetConnect(/(127\.0\.0\.1|localhost|\[::1\])/);

afterEach(() => {
  nock.cleanAll();
});
