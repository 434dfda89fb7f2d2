/**
 * The root package.json of a commit, read as data: the version spec of a
 * dependency (devDependencies first: a linter is a development tool), and its
 * `eslintConfig`. An unreadable package.json counts as none, with a note.
 */
import { isPlainObject, parseRepoJson } from "../lint/jsonc.js";
import { reason, type Notes } from "./notes.js";
import { registrySpec } from "./package-name.js";
import type { TreeFiles } from "./tree-files.js";

export const PACKAGE_JSON = "package.json";

export class Manifest {
  private constructor(private readonly raw: Record<string, unknown> | null) {}

  static async read(files: TreeFiles, notes: Notes): Promise<Manifest> {
    const text = await files.text(PACKAGE_JSON);
    if (text === null) return new Manifest(null);
    let raw: unknown;
    try {
      raw = parseRepoJson(text, PACKAGE_JSON);
    } catch (err) {
      notes.add(`${reason(err)}: its dependencies are not read`);
      return new Manifest(null);
    }
    if (!isPlainObject(raw)) notes.add(`${PACKAGE_JSON} is not an object: its dependencies are not read`);
    return new Manifest(isPlainObject(raw) ? raw : null);
  }

  /** The spec package.json gives `name` (devDependencies, then dependencies), or undefined. */
  spec(name: string): string | undefined {
    for (const field of ["devDependencies", "dependencies"]) {
      const deps = this.raw?.[field];
      if (isPlainObject(deps) && Object.hasOwn(deps, name) && typeof deps[name] === "string") return deps[name];
    }
    return undefined;
  }

  /** Every package package.json depends on (devDependencies and dependencies), in their order. */
  dependencyNames(): string[] {
    const names = new Set<string>();
    for (const field of ["devDependencies", "dependencies"]) {
      const deps = this.raw?.[field];
      if (isPlainObject(deps)) for (const name of Object.keys(deps)) names.add(name);
    }
    return [...names];
  }

  /** The spec of `name` when the registry can resolve it; a spec it cannot (a URL, a path) is noted and left out. */
  registrySpec(name: string, notes: Notes): string | undefined {
    const spec = this.spec(name);
    if (spec === undefined) return undefined;
    const out = registrySpec(name, spec);
    if ("why" in out) notes.add(`${name}: ${out.why} (${PACKAGE_JSON}): left out`);
    return "spec" in out ? out.spec : undefined;
  }

  /** package.json's "eslintConfig" when it is an object, else undefined. */
  get eslintConfig(): Record<string, unknown> | undefined {
    const c = this.raw?.eslintConfig;
    return isPlainObject(c) ? c : undefined;
  }
}
