/**
 * The real `farm` command line as child processes (see children.ts): one node
 * process per command, so a signal sent to the child reaches farm itself.
 */
import { spawnFarm, type Child, type Run } from "./children.js";

export { FARM, ROOT, killChildren, type Child, type Run } from "./children.js";

/** `farm` commands run in one working directory with one base environment. */
export class FarmCli {
  /** `env` is added to the test's environment, with NATS_URL cleared unless given. */
  constructor(private readonly base: { cwd: string; env: Record<string, string> }) {}

  spawn(args: string[], env: Record<string, string> = {}): Child {
    return spawnFarm(args, { cwd: this.base.cwd, env: { NATS_URL: "", ...this.base.env, ...env } });
  }

  /** Runs the command to its end. */
  run(args: string[], env: Record<string, string> = {}): Promise<Run> {
    return this.spawn(args, env).finished;
  }
}
