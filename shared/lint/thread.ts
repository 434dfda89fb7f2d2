/**
 * Entry of a lint pool thread: a warm LintEngine that lints one file at a
 * time. The pool times files out by terminating the thread, so nothing here
 * needs to be interruptible.
 */
import { parentPort, workerData } from "node:worker_threads";
import eslintJs from "@eslint/js";
import * as eslint from "eslint";
import type { Linter } from "eslint";
import globals from "globals";
import { defaultFileConfig } from "./config.js";
import { LintEngine } from "./engine.js";
import { provideEslint } from "./eslint-api.js";
import { toThreadError } from "./errors.js";
import type { FromThread, ThreadInit, ToThread } from "./protocol.js";

provideEslint({ api: eslint, eslintJs, globals });

if (!parentPort) throw new Error("shared/lint/thread is a worker_threads entry; use LintPool");
const port = parentPort;
const init = (workerData ?? {}) as ThreadInit;

let extra: Linter.Config[] | undefined;
if (init.testOnlyEslintConfigModule) {
  const mod = (await import(init.testOnlyEslintConfigModule)) as { default: Linter.Config[] };
  extra = mod.default;
}
const engine = new LintEngine({ maxCachedConfigs: init.maxCachedConfigs, testOnlyExtraEslintConfig: extra });

const send = (msg: FromThread): void => port.postMessage(msg);

port.on("message", (msg: ToThread) => {
  if (msg.type !== "lint") return;
  const { id, task } = msg;
  engine
    .lintFile(task, {
      // Posted before a linter runs: if it then hangs, the pool still knows which one and what came before.
      onLinterStart: (linter, messages) => send({ type: "progress", id, linter, messages: [...messages] }),
    })
    .then(
      (messages) => send({ type: "done", id, messages }),
      (err: unknown) => send({ type: "error", id, error: toThreadError(err) }),
    );
});

// ESLint loads its rules at the first lint: done now, before the thread says it is ready, not on a first file's time.
await engine.lintFile({ path: "warm-up.js", content: "", config: defaultFileConfig("warm-up.js") }).catch(() => undefined);
send({ type: "ready" });
