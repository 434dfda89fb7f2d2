/**
 * deploy/'s files agree with each other and with the code: every service runs
 * `farm service <name>` as its own NATS user with its own inbox prefix and
 * password, in compose and in k8s, and auth.conf has that user with exactly
 * that inbox. (containers.sh runs the Dockerfile; this checks what it cannot:
 * the compose file and the manifests nobody here can apply.)
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import { SERVICE_NAMES } from "../../../services/index.js";
import { AUTH_CONF, repoRoot, USERS } from "../../harness/deploy.js";

const deploy = (...p: string[]) => path.join(repoRoot, "deploy", ...p);
const compose = parse(readFileSync(deploy("docker-compose.yml"), "utf8"), { merge: true });
const auth = readFileSync(AUTH_CONF, "utf8");

/** The text of one user's block in auth.conf. */
function authBlock(user: string): string {
  const start = auth.indexOf(`user: ${user}\n`);
  expect(start, `user ${user} in auth.conf`).toBeGreaterThan(0);
  const next = auth.indexOf("user:", start + 6);
  return auth.slice(start, next < 0 ? undefined : next);
}

describe("deploy/nats/auth.conf", () => {
  test.each([...SERVICE_NAMES, "web", "reporter", "farm-client"])("%s subscribes to its own inbox and no other", (user) => {
    const block = authBlock(user);
    const inboxes = [...block.matchAll(/"(_INBOX[^"]*)"/g)].map((m) => m[1]);
    expect(inboxes).toEqual([`_INBOX_${user}.>`]);
    expect(block).toContain(`$${USERS[user as keyof typeof USERS]}`);
  });

  test("services answer requests by allow_responses, the client does not", () => {
    for (const s of SERVICE_NAMES) expect(authBlock(s)).toMatch(/allow_responses: true/);
    expect(authBlock("farm-client")).not.toMatch(/allow_responses/);
  });

  test("web reads through public subjects and creates, writes or deletes nothing but a replayed dead letter", () => {
    const block = authBlock("web");
    for (const s of ["history.repos", "history.commits", "history.issues", "history.file", "report.get", "repo.analysis.>", "farm.presence"])
      expect(block).toContain(`"${s}"`);
    expect(block).toContain('"$JS.API.STREAM.MSG.DELETE.DLQ"');
    expect(block).not.toMatch(/STREAM\.(CREATE|UPDATE|DELETE|PURGE)|"\$O\.|"\$KV\.|MSG\.DELETE\.(?!DLQ)/);
  });
});

describe("deploy/docker-compose.yml", () => {
  test("three NATS nodes, each its own server name and volume", () => {
    for (const n of ["nats-1", "nats-2", "nats-3"]) {
      const svc = compose.services[n];
      expect(svc.environment.NATS_SERVER_NAME).toBe(n);
      expect(svc.volumes).toContain(`${n}:/data`);
    }
    expect(readFileSync(deploy("nats/nats.conf"), "utf8")).toMatch(/server_name: \$NATS_SERVER_NAME/);
  });

  test.each(SERVICE_NAMES)("%s: farm service %s as its own user, inbox and password, 3 replicas of everything", (name) => {
    const svc = compose.services[name];
    expect(svc.command).toEqual(["service", name]);
    expect(svc.environment).toMatchObject({ NATS_USER: name, NATS_INBOX_PREFIX: `_INBOX_${name}`, FARM_REPLICAS: "3" });
    expect(svc.environment.NATS_PASSWORD).toContain(USERS[name]);
    expect(svc.environment.NATS_URL.split(",")).toHaveLength(3);
  });

  test("web: farm service web as its own user, on the host's loopback only, with the operator token", () => {
    const svc = compose.services.web;
    expect(svc.command).toEqual(["service", "web"]);
    expect(svc.environment).toMatchObject({ NATS_USER: "web", NATS_INBOX_PREFIX: "_INBOX_web", FARM_WEB_HOST: "0.0.0.0", FARM_WEB_PORT: "8080" });
    expect(svc.environment.NATS_PASSWORD).toContain(USERS.web);
    expect(svc.environment.FARM_WEB_TOKEN).toContain("FARM_WEB_TOKEN");
    expect(svc.ports).toEqual(["127.0.0.1:${FARM_WEB_PORT:-8080}:8080"]);
  });

  test("reporter: its own user and inbox, its GitHub credentials only in its environment, started by its profile", () => {
    const svc = compose.services.reporter;
    expect(svc.command).toEqual(["service", "reporter"]);
    expect(svc.profiles).toEqual(["reporter"]);
    expect(svc.environment).toMatchObject({ NATS_USER: "reporter", NATS_INBOX_PREFIX: "_INBOX_reporter" });
    expect(svc.environment.NATS_PASSWORD).toContain(USERS.reporter);
    expect(svc.environment.FARM_GITHUB_TOKEN).toContain("FARM_GITHUB_TOKEN");
    // Nobody else is given the host's credentials.
    for (const [name, other] of Object.entries(compose.services as Record<string, { environment?: Record<string, string> }>))
      if (name !== "reporter") expect(JSON.stringify(other.environment ?? {}), name).not.toMatch(/FARM_GITHUB_(TOKEN|APP)/);
  });

  test("the client tool runs as farm-client with its inbox", () => {
    expect(compose.services.client.environment).toMatchObject({ NATS_USER: "farm-client", NATS_INBOX_PREFIX: "_INBOX_farm-client" });
  });
});

describe("deploy/k8s", () => {
  const kustomization = parse(readFileSync(deploy("k8s/kustomization.yaml"), "utf8"));

  test.each(SERVICE_NAMES)("%s: a Deployment running farm service %s as its own user, with probes and requests", (name) => {
    expect(kustomization.resources).toContain(`${name}.yaml`);
    const docs = parseAllDocuments(readFileSync(deploy("k8s", `${name}.yaml`), "utf8")).map((d) => d.toJS());
    const dep = docs.find((d) => d?.kind === "Deployment");
    const c = dep.spec.template.spec.containers[0];
    expect(c.args).toEqual(["service", name]);
    const env = Object.fromEntries(c.env.map((e: { name: string; value?: string; valueFrom?: unknown }) => [e.name, e.value ?? e.valueFrom]));
    expect(env).toMatchObject({
      NATS_USER: name,
      NATS_INBOX_PREFIX: `_INBOX_${name}`,
      NATS_PASSWORD: { secretKeyRef: { name: "farm-nats-auth", key: name } },
    });
    for (const probe of ["startupProbe", "readinessProbe", "livenessProbe"]) expect(c[probe].exec.command).toContain("deploy/healthcheck.mjs");
    expect(c.resources.requests).toMatchObject({ cpu: expect.anything(), memory: expect.anything() });
  });

  test("web: a Deployment running farm service web as its own user, and a Service in front of its port", () => {
    expect(kustomization.resources).toContain("web.yaml");
    const docs = parseAllDocuments(readFileSync(deploy("k8s", "web.yaml"), "utf8")).map((d) => d.toJS());
    const c = docs.find((d) => d?.kind === "Deployment").spec.template.spec.containers[0];
    expect(c.args).toEqual(["service", "web"]);
    const env = Object.fromEntries(c.env.map((e: { name: string; value?: string; valueFrom?: unknown }) => [e.name, e.value ?? e.valueFrom]));
    expect(env).toMatchObject({
      NATS_USER: "web",
      NATS_INBOX_PREFIX: "_INBOX_web",
      NATS_PASSWORD: { secretKeyRef: { name: "farm-nats-auth", key: "web" } },
      FARM_WEB_TOKEN: { secretKeyRef: { name: "farm-nats-auth", key: "web-token" } },
      FARM_WEB_PORT: "8080",
    });
    expect(c.ports).toEqual([
      { name: "http", containerPort: 8080 },
      { name: "metrics", containerPort: 9464 },
    ]);
    expect(c.livenessProbe.httpGet).toEqual({ path: "/healthz", port: "http" });
    const svc = docs.find((d) => d?.kind === "Service");
    expect(svc.spec.ports[0].targetPort).toBe("http");
    expect(svc.spec.selector).toEqual(docs.find((d) => d?.kind === "Deployment").spec.selector.matchLabels);
    const secret = parse(readFileSync(deploy("k8s/secret.example.yaml"), "utf8"));
    expect(Object.keys(secret.stringData)).toContain("web-token");
  });

  test("reporter: a Deployment of one replica running farm service reporter as its own user, its token from the Secret", () => {
    expect(kustomization.resources).toContain("reporter.yaml");
    const dep = parseAllDocuments(readFileSync(deploy("k8s", "reporter.yaml"), "utf8"))
      .map((d) => d.toJS())
      .find((d) => d?.kind === "Deployment");
    expect(dep.spec.replicas).toBe(1);
    const c = dep.spec.template.spec.containers[0];
    expect(c.args).toEqual(["service", "reporter"]);
    const env = Object.fromEntries(c.env.map((e: { name: string; value?: string; valueFrom?: unknown }) => [e.name, e.value ?? e.valueFrom]));
    expect(env).toMatchObject({
      NATS_USER: "reporter",
      NATS_INBOX_PREFIX: "_INBOX_reporter",
      NATS_PASSWORD: { secretKeyRef: { name: "farm-nats-auth", key: "reporter" } },
      FARM_GITHUB_TOKEN: { secretKeyRef: { name: "farm-nats-auth", key: "github-token" } },
    });
  });

  test("the example Secret holds a password for every user the chart's values pass to nats-server", () => {
    const secret = parse(readFileSync(deploy("k8s/secret.example.yaml"), "utf8"));
    const values = readFileSync(deploy("k8s/nats-values.yaml"), "utf8");
    const keys = Object.keys(secret.stringData ?? secret.data);
    for (const [user, env] of Object.entries(USERS)) {
      expect(keys).toContain(user);
      expect(values).toContain(`${env}: { valueFrom: { secretKeyRef: { name: farm-nats-auth, key: ${user} } } }`);
    }
  });
});
