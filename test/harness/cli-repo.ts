/** The CLI suite's repository: three small commits, one issue added by each of the last two. */
import { TestRepo } from "./git.js";

/**
 * A repository of three commits (all dated the same: a commit made again after
 * a reset gets its old sha back): a clean one, an undefined name, an unused variable.
 */
export function threeCommits(dir: string): TestRepo {
  const repo = new TestRepo(dir, { step: 0 });
  repo.commit("first", { "package.json": '{"name":"x"}\n', "index.js": "const a = 1;\nmodule.exports = a;\n" });
  repo.commit("add util with an error", { "lib/util.js": "function f() { return undefinedThing; }\nmodule.exports = f;\n" });
  repo.commit("unused variable", { "index.js": "const a = 1;\nconst unused = 2;\nmodule.exports = a;\n" });
  return repo;
}
