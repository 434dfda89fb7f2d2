/**
 * A real npm registry for tests: verdaccio (the devDependency), one node
 * process on a free 127.0.0.1 port, its config, storage and users in a temp
 * dir. Anyone may read and publish; no uplink unless asked (then the public
 * registry, for the packages a test does not publish). Every request it
 * serves is read back from its JSON log (see {@link TestRegistry.requests}).
 */
import { execFile } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { stringify } from "yaml";
import { freePort } from "./nats-server.js";
import { ROOT, spawnNode, type Child } from "./children.js";
import { removeDir, tempDir } from "./files.js";
import { waitFor } from "./wait.js";

const run = promisify(execFile);
const VERDACCIO = path.join(ROOT, "node_modules/verdaccio/bin/verdaccio");
const PUBLIC_REGISTRY = "https://registry.npmjs.org/";

export interface TestRegistryOptions {
  /**
   * Proxy the public registry for every package not named in `localPackages`.
   * Default false: the registry holds only what the test publishes.
   */
  proxyPublic?: boolean;
  /** Names (or verdaccio patterns) served from this registry only, never proxied. Default none. */
  localPackages?: string[];
}

/** One request the registry received, as its log records it. */
export interface RegistryRequest {
  method: string;
  url: string;
}

export class TestRegistry {
  private child?: Child;
  private token?: string;
  readonly dir: string;
  port = 0;

  private constructor(private readonly opts: TestRegistryOptions) {
    this.dir = tempDir("farm-registry-");
  }

  static async start(opts: TestRegistryOptions = {}): Promise<TestRegistry> {
    const r = new TestRegistry(opts);
    try {
      await r.start();
    } catch (err) {
      await r.dispose();
      throw err;
    }
    return r;
  }

  /** `http://127.0.0.1:<port>/`, as npm writes registries. */
  get url(): string {
    return `http://127.0.0.1:${this.port}/`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts verdaccio (again, after {@link stop}: same port, same storage). */
  async start(): Promise<void> {
    const config = path.join(this.dir, "config.yaml");
    writeFileSync(config, stringify(this.config()));
    if (!this.port) this.port = await freePort();
    this.child = spawnNode([VERDACCIO, "--config", config, "--listen", `127.0.0.1:${this.port}`], { cwd: this.dir });
    await this.child.line("http address", { timeout: 30_000 });
  }

  private config(): object {
    const open = { access: "$all", publish: "$all", unpublish: "$all" };
    const packages: Record<string, object> = {};
    for (const name of this.opts.localPackages ?? []) packages[name] = open;
    packages["**"] = this.opts.proxyPublic ? { ...open, proxy: "public" } : open;
    return {
      storage: path.join(this.dir, "storage"),
      auth: { htpasswd: { file: path.join(this.dir, "htpasswd") } },
      uplinks: this.opts.proxyPublic ? { public: { url: PUBLIC_REGISTRY } } : {},
      packages,
      // JSON lines at "http": one line per request served, read by requests().
      log: { type: "stdout", format: "json", level: "http" },
      web: { enable: false },
    };
  }

  /** Every request received so far (since the registry's last start), in order of arrival. */
  requests(): RegistryRequest[] {
    const out: RegistryRequest[] = [];
    for (const line of (this.child?.stdout() ?? "").split("\n")) {
      if (!line.startsWith("{")) continue;
      // One "requested" line per request as it arrives (the response is logged once or twice more, as "request").
      const rec = JSON.parse(line) as { req?: { method: string; url: string } };
      if (rec.req) out.push({ method: rec.req.method, url: rec.req.url });
    }
    return out;
  }

  /**
   * Resolves once every request made before the call is in {@link requests}:
   * a marked ping's log line comes after theirs.
   */
  async logged(): Promise<void> {
    const url = `/-/ping?mark=${Math.random().toString(36).slice(2)}`;
    await fetch(new URL(url, this.url));
    await waitFor(`verdaccio's log line of ${url}`, () => this.requests().some((r) => r.url === url), 10_000);
  }

  /** The tarballs served so far (GET …/-/<name>-<version>.tgz). */
  tarballRequests(): string[] {
    return this.requests()
      .filter((r) => r.method === "GET" && r.url.endsWith(".tgz"))
      .map((r) => r.url);
  }

  /** `npm publish` of the package in `pkgDir` (its scripts not run), as a user registered on first use. */
  async publish(pkgDir: string): Promise<void> {
    const npmrc = path.join(this.dir, "npmrc");
    writeFileSync(npmrc, `//127.0.0.1:${this.port}/:_authToken=${await this.authToken()}\n`);
    await run(
      "npm",
      ["publish", "--registry", this.url, "--userconfig", npmrc, "--cache", path.join(this.dir, "npm-cache"), "--ignore-scripts", "--no-audit", "--", pkgDir],
      { cwd: this.dir, timeout: 60_000 },
    );
  }

  /** `npm adduser` as verdaccio takes it: PUT /-/user/org.couchdb.user:<name> answers with a token. */
  private async authToken(): Promise<string> {
    if (this.token) return this.token;
    const name = "farm-test";
    const res = await fetch(`${this.url}-/user/org.couchdb.user:${name}`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ name, password: "farm-test-password" }),
    });
    const body = (await res.json()) as { token?: string };
    if (!res.ok || !body.token) throw new Error(`verdaccio refused to add user ${name}: ${res.status} ${JSON.stringify(body)}`);
    this.token = body.token;
    return body.token;
  }

  /** Kills the verdaccio process and waits for it to be gone. */
  async stop(): Promise<void> {
    await this.child?.stop("SIGKILL");
    this.child = undefined;
  }

  async dispose(): Promise<void> {
    await this.stop();
    removeDir(this.dir);
  }
}

export interface TestPackage {
  name: string;
  version: string;
  /** Path (relative to the package) → content. Default: an `index.js` exporting `{}`. */
  files?: Record<string, string>;
  dependencies?: Record<string, string>;
  scripts?: Record<string, string>;
}

/** Writes `pkg` (package.json and its files) into a fresh dir under `parent` and returns that dir. */
export function writeTestPackage(parent: string, pkg: TestPackage): string {
  const dir = path.join(parent, `${pkg.name.replace("/", "+")}-${pkg.version}`);
  mkdirSync(dir, { recursive: true });
  const manifest = { name: pkg.name, version: pkg.version, main: "index.js", dependencies: pkg.dependencies, scripts: pkg.scripts };
  writeFileSync(path.join(dir, "package.json"), JSON.stringify(manifest, null, 2));
  for (const [file, text] of Object.entries(pkg.files ?? { "index.js": "module.exports = {};\n" })) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), text);
  }
  return dir;
}
