/**
 * The sandbox's command line (issue 25): bubblewrap around node, node under its
 * own permission model, resource limits from prlimit. A pure function of paths
 * and limits, so what the sandbox can see is readable in one place.
 */
import path from "node:path";

/** Where things are inside the sandbox: fixed, so nothing of the host's layout leaks in. */
export const INSIDE = {
  /** The toolchain's `node_modules`, at the root: a config in /work resolves its plugins there, as Node walks up. */
  nodeModules: "/node_modules",
  work: "/work",
  runnerDir: "/runner",
  scratch: "/tmp",
} as const;

export interface LaunchPlan {
  prlimit: string;
  bwrap: string;
  /** The node binary (its real path). */
  node: string;
  /** Host directories node needs beyond /usr (its install dir when it lives elsewhere), bound read-only at the same path. */
  nodeDirs: readonly string[];
  /** How the host's /lib, /lib64, /bin are: a symlink (merged /usr) is recreated, a directory bound read-only. */
  rootLinks: Readonly<Record<string, { symlinkTo: string } | "dir" | "absent">>;
  /** Node's flag that turns the permission model on (`--experimental-permission` on Node 20, `--permission` later). */
  permissionFlag: string;
  toolchainNodeModules: string;
  workDir: string;
  runner: string;
  memoryMb: number;
  scratchMb: number;
}

const MiB = 1024 * 1024;
/** Address space beyond the heap that node needs (V8's reservations, code space, thread stacks). */
const ADDRESS_SPACE_HEADROOM_MB = 1024;
/** The largest single file the sandbox may write (its scratch is small anyway). */
const MAX_FILE_MB = 16;
const MAX_OPEN_FILES = 256;

/** The argv (program first) that runs the runner over the work dir, sandboxed. */
export function sandboxArgv(plan: LaunchPlan): string[] {
  const runnerInside = path.posix.join(INSIDE.runnerDir, path.basename(plan.runner));
  const limits = [
    plan.prlimit,
    `--as=${(plan.memoryMb + ADDRESS_SPACE_HEADROOM_MB) * MiB}`,
    `--fsize=${MAX_FILE_MB * MiB}`,
    `--nofile=${MAX_OPEN_FILES}`,
    "--core=0",
    "--",
  ];
  const isolation = [
    plan.bwrap,
    "--unshare-all", // network, pid, ipc, uts, cgroup, user namespaces: no network at all (a loopback of its own)
    "--unshare-user",
    "--disable-userns",
    "--uid",
    "65534",
    "--gid",
    "65534",
    "--die-with-parent",
    "--new-session", // no TIOCSTI into the caller's terminal
    "--clearenv",
    "--setenv",
    "PATH",
    "/usr/bin:/bin",
    "--setenv",
    "HOME",
    INSIDE.scratch,
    "--ro-bind",
    "/usr",
    "/usr",
  ];
  for (const [dir, how] of Object.entries(plan.rootLinks)) {
    if (how === "dir") isolation.push("--ro-bind", dir, dir);
    else if (how !== "absent") isolation.push("--symlink", how.symlinkTo, dir);
  }
  isolation.push("--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache");
  for (const dir of plan.nodeDirs) isolation.push("--ro-bind", dir, dir);
  isolation.push(
    "--ro-bind",
    plan.toolchainNodeModules,
    INSIDE.nodeModules,
    "--ro-bind",
    plan.workDir,
    INSIDE.work,
    "--ro-bind",
    plan.runner,
    runnerInside,
    "--size",
    String(plan.scratchMb * MiB),
    "--tmpfs",
    INSIDE.scratch,
    "--proc",
    "/proc",
    "--dev",
    "/dev",
    "--chdir",
    INSIDE.work,
    "--",
  );
  const node = [
    plan.node,
    plan.permissionFlag, // without --allow-child-process: no child process
    // Worker threads share the process's permissions, namespaces and address-space limit; plugins need
    // them (eslint-plugin-prettier 5 runs Prettier 3 on one, through synckit).
    "--allow-worker",
    // Reads are bounded by the mount namespace (only the toolchain, the work dir, the runner and /tmp are
    // there). Node 20's model throws on a mere probe of a path outside its read list (fs.existsSync), which
    // real plugins do at load (eslint-module-utils probes the file system's case sensitivity).
    "--allow-fs-read=*",
    `--allow-fs-write=${INSIDE.scratch}`,
    `--max-old-space-size=${plan.memoryMb}`,
    runnerInside,
  ];
  return [...limits, ...isolation, ...node];
}
