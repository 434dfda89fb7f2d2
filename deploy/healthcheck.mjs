#!/usr/bin/env node
// Container healthcheck for `farm service <name>`: healthy when the service process
// of this container answers farm.presence over NATS (the same question `farm status`
// asks), i.e. it is connected and its event loop responds. Exit 0 healthy, 1 not.
//
//   node deploy/healthcheck.mjs              readiness / Docker HEALTHCHECK: NATS reachable
//                                            and this container's service answering
//   node deploy/healthcheck.mjs --liveness   for restart decisions: NATS unreachable is not this
//                                            process's fault (it reconnects by itself), so only
//                                            "reachable but my service does not answer" fails
//
// Connects with the service's own NATS_URL / NATS_CREDS / NATS_USER / NATS_PASSWORD /
// NATS_INBOX_PREFIX.
import { readFileSync, readdirSync } from "node:fs";
import os from "node:os";
import { connect, credsAuthenticator } from "@nats-io/transport-node";

const liveness = process.argv.includes("--liveness");
const WAIT_MS = Number(process.env.FARM_HEALTHCHECK_WAIT_MS || 3000);

function done(ok, why) {
  process.stdout.write(`${ok ? "healthy" : "unhealthy"}: ${why}\n`);
  process.exit(ok ? 0 : 1);
}

// The service process of this container: `node dist/cli/farm.js service <name>` (PID 1, or
// the child of an init such as tini / `--init`). FARM_HEALTHCHECK_PID names it outright
// (outside a container, where other processes may match).
function findService() {
  const only = process.env.FARM_HEALTHCHECK_PID;
  const pids = only ? [only] : readdirSync("/proc").filter((p) => /^\d+$/.test(p));
  for (const pid of pids) {
    let argv;
    try {
      argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    } catch {
      continue;
    }
    const i = argv.indexOf("service");
    if (i > 0 && argv.some((a) => a.endsWith("farm.js") || a.endsWith("/farm")) && argv[i + 1]) {
      return { pid: Number(pid), name: argv[i + 1] };
    }
  }
  return null;
}

const me = findService();
if (!me) done(false, "no `farm service` process in this container");
if (!process.env.NATS_URL) done(false, "NATS_URL is not set");

let nc;
try {
  nc = await connect({
    servers: process.env.NATS_URL.split(",").map((s) => s.trim()),
    user: process.env.NATS_USER || undefined,
    pass: process.env.NATS_PASSWORD || undefined,
    authenticator: process.env.NATS_CREDS ? credsAuthenticator(readFileSync(process.env.NATS_CREDS)) : undefined,
    name: `healthcheck-${me.name}`,
    // deploy/nats/auth.conf lets each user subscribe to its own inbox prefix only.
    inboxPrefix: process.env.NATS_INBOX_PREFIX || undefined,
    timeout: WAIT_MS,
    maxReconnectAttempts: 0,
  });
} catch (err) {
  if (liveness) done(true, `NATS unreachable (${err.message}); not judging ${me.name}`);
  done(false, `NATS unreachable: ${err.message}`);
}

const host = os.hostname();
let found = false;
try {
  const replies = await nc.requestMany("farm.presence", undefined, { strategy: "timer", maxWait: WAIT_MS });
  for await (const m of replies) {
    const p = m.json();
    if (p.service === me.name && p.host === host && p.pid === me.pid) {
      found = true;
      break;
    }
  }
} catch {
  // no responders: nobody answers, this service included
}
await nc.close().catch(() => {});
done(found, found ? `${me.name} (pid ${me.pid}) answers` : `${me.name} (pid ${me.pid}) does not answer farm.presence within ${WAIT_MS} ms`);
