/**
 * The sandbox's processes this test process started and that are still alive:
 * bubblewrap and the runner's node, found by the runner's path inside the
 * sandbox and by descent from this process (other test files run their own).
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

const RUNNER_INSIDE = "/runner/sandbox-runner.mjs";

/** Pids of the sandbox processes we started; `nodeOnly`: the runners themselves, not their bwrap parents. */
export function sandboxProcesses(o: { nodeOnly?: boolean } = {}): number[] {
  return readdirSync("/proc")
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        const argv = readFileSync(`/proc/${p}/cmdline`, "latin1").split("\0");
        if (!argv.includes(RUNNER_INSIDE)) return false;
        return (!o.nodeOnly || path.basename(argv[0]) === "node") && descendsFromUs(Number(p));
      } catch {
        return false; // gone meanwhile
      }
    })
    .map(Number);
}

function descendsFromUs(pid: number): boolean {
  for (let p = pid, hops = 0; p > 1 && hops < 32; hops++) {
    if (p === process.pid) return true;
    // The parent pid is the second field after the command, which is in parentheses and may hold spaces.
    const stat = readFileSync(`/proc/${p}/stat`, "latin1");
    p = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  }
  return false;
}
