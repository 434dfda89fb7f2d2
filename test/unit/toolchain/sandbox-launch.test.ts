/** The sandbox's command line: what it binds, how, and the limits it sets (the running sandbox is tested in test/integration/toolchain). */
import { describe, expect, it } from "vitest";
import { sandboxArgv, type LaunchPlan } from "../../../shared/toolchain/sandbox-launch.js";

const plan: LaunchPlan = {
  prlimit: "/usr/bin/prlimit",
  bwrap: "/usr/bin/bwrap",
  node: "/opt/node-v20/bin/node",
  nodeDirs: ["/opt/node-v20"],
  rootLinks: { "/lib": { symlinkTo: "usr/lib" }, "/lib64": "dir", "/bin": "absent" },
  permissionFlag: "--experimental-permission",
  toolchainNodeModules: "/var/cache/toolchains/abc/node_modules",
  workDir: "/var/tmp/commit-1",
  runner: "/srv/farm/dist/shared/toolchain/sandbox-runner.mjs",
  memoryMb: 256,
  scratchMb: 64,
};

/** Each `flag a b` triple of the bwrap part, as "flag a b". */
function binds(argv: string[], flag: string): string[] {
  const out: string[] = [];
  argv.forEach((a, i) => a === flag && out.push(`${argv[i + 1]} ${argv[i + 2]}`));
  return out;
}

describe("the sandbox's command line", () => {
  const argv = sandboxArgv(plan);
  const bwrapAt = argv.indexOf("/usr/bin/bwrap");
  const nodeAt = argv.indexOf("/opt/node-v20/bin/node");

  it("sets the limits first, then bubblewrap, then node", () => {
    expect(argv.slice(0, 2)).toEqual(["/usr/bin/prlimit", `--as=${(256 + 1024) * 1024 * 1024}`]);
    expect(bwrapAt).toBeGreaterThan(0);
    expect(argv[bwrapAt - 1]).toBe("--");
    expect(argv[nodeAt - 1]).toBe("--");
  });

  it("binds only read-only, the toolchain and the work dir at fixed paths, and makes only a sized tmpfs writable", () => {
    const sandbox = argv.slice(bwrapAt, nodeAt);
    expect(sandbox).not.toContain("--bind");
    expect(sandbox).not.toContain("--bind-try");
    expect(binds(sandbox, "--ro-bind")).toEqual([
      "/usr /usr",
      "/lib64 /lib64",
      "/opt/node-v20 /opt/node-v20",
      "/var/cache/toolchains/abc/node_modules /node_modules",
      "/var/tmp/commit-1 /work",
      "/srv/farm/dist/shared/toolchain/sandbox-runner.mjs /runner/sandbox-runner.mjs",
    ]);
    expect(binds(sandbox, "--symlink")).toEqual(["usr/lib /lib"]);
    expect(sandbox.join(" ")).toContain(`--size ${64 * 1024 * 1024} --tmpfs /tmp`);
  });

  it("unshares every namespace and hands the child none of the environment", () => {
    const sandbox = argv.slice(bwrapAt, nodeAt);
    for (const flag of ["--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent", "--new-session", "--clearenv"])
      expect(sandbox).toContain(flag);
    expect(binds(sandbox, "--setenv")).toEqual(["PATH /usr/bin:/bin", "HOME /tmp"]);
  });

  it("runs node under its permission model: reads of the toolchain, the files and the runner, writes to the scratch only, threads but no child processes", () => {
    expect(argv.slice(nodeAt + 1)).toEqual([
      "--experimental-permission",
      "--allow-worker",
      "--allow-fs-read=*",
      "--allow-fs-write=/tmp",
      "--max-old-space-size=256",
      "/runner/sandbox-runner.mjs",
    ]);
  });
});
