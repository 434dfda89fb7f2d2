/**
 * Reading legacy ESLint config files as data, and following their relative
 * `extends` ("./base.json") through a commit's tree. Small on purpose: ingest
 * uses it to know which files to upload, without loading ESLint.
 */
import { posix } from "node:path";
import { createRequire } from "node:module";
import { LRUCache } from "lru-cache";
import { isPlainObject, stripJsonComments } from "./jsonc.js";
import { dirOf } from "./source-type.js";

/** Config files that are data: their contents are fetched from the commit's blobs. */
export const ESLINTRC_DATA: readonly string[] = [".eslintrc.yaml", ".eslintrc.yml", ".eslintrc.json", ".eslintrc"];
/** Per directory, ESLint 8 uses the first of these it finds (package.json only when it has "eslintConfig"). */
export const ESLINTRC_ORDER: readonly string[] = [
  ".eslintrc.js",
  ".eslintrc.cjs",
  ".eslintrc.yaml",
  ".eslintrc.yml",
  ".eslintrc.json",
  ".eslintrc",
  "package.json",
];
/** JavaScript configs: code, never run. */
export const ESLINTRC_CODE: readonly string[] = [".eslintrc.js", ".eslintrc.cjs"];

/** Parses one config file's text by its name, as ESLint 8 does; throws a plain Error with the reason. */
export function parseConfigText(text: string, file: string): unknown {
  const body = text.replace(/^\uFEFF/, "");
  const base = posix.basename(file);
  // package.json too: ESLint 8 reads it as JSON with comments (a YAML parse refuses a duplicate key JSON allows).
  if (base === ".eslintrc.json" || base === "package.json") return JSON.parse(stripJsonComments(body));
  if (base === ".eslintrc") {
    try {
      return JSON.parse(stripJsonComments(body));
    } catch {
      // ESLint 8 reads an extensionless .eslintrc as YAML (a superset of JSON).
    }
  }
  return parseYamlConfig(body);
}

/** The YAML parser, loaded at the first YAML config: a twentieth of a second that most start-ups (and every lint thread) need not spend. */
let yaml: typeof import("yaml") | undefined;
// A bounded alias count: a "billion laughs" document is refused, not expanded.
const parseYaml = (body: string): unknown => (yaml ??= createRequire(import.meta.url)("yaml") as typeof import("yaml")).parse(body, { maxAliasCount: 100 });

/** Parsed YAML configs by text: a history's commits carry the same few, each parsed once (it was a tenth of the splitter's time on mocha). */
const yamlDocs = new LRUCache<string, { doc: unknown }>({ max: 256 });
/** Longer texts are parsed each time rather than kept. */
const MAX_CACHED_YAML = 64 * 1024;

function parseYamlConfig(body: string): unknown {
  if (body.length > MAX_CACHED_YAML) return parseYaml(body);
  let known = yamlDocs.get(body);
  if (!known) {
    known = { doc: parseYaml(body) };
    yamlDocs.set(body, known);
  }
  // A copy: the reader keeps parts of it (rule options) in what it builds.
  return structuredClone(known.doc);
}

/** Rounds of following relative `extends` (a chain of extended files): deeper chains are not fetched, and noted. */
export const MAX_EXTENDS_ROUNDS = 8;

export const JS_CONFIG = /\.[cm]?js$/;

/** The tree path a relative `extends` of `file` names, or null when it leaves the repository. */
export function relativeExtendsTarget(name: string, file: string): string | null {
  const target = posix.normalize(posix.join(dirOf(file), name));
  return target === ".." || target.startsWith("../") || posix.isAbsolute(target) ? null : target;
}

/** An extended file by its extension, as ESLint 8's loadConfigFile reads it (package.json: its "eslintConfig"). */
export function parseExtendedText(text: string, file: string): unknown {
  const body = text.replace(/^\uFEFF/, "");
  if (posix.basename(file) === "package.json") {
    const pkg = JSON.parse(stripJsonComments(body)) as unknown;
    return isPlainObject(pkg) ? pkg.eslintConfig : undefined;
  }
  if (file.endsWith(".json")) return JSON.parse(stripJsonComments(body));
  return parseYamlConfig(body);
}

/** Every path the relative `extends` of the configs in `contents` name (in the commit or not; JavaScript ones included). */
export function namedExtends(contents: ReadonlyMap<string, string>): Set<string> {
  const named = new Set<string>();
  const visit = (raw: unknown, file: string) => {
    if (!isPlainObject(raw)) return;
    for (const name of [raw.extends].flat()) {
      if (typeof name !== "string" || !(name.startsWith("./") || name.startsWith("../"))) continue;
      const target = relativeExtendsTarget(name, file);
      if (target !== null) named.add(target);
    }
    if (Array.isArray(raw.overrides)) for (const o of raw.overrides) visit(o, file);
  };
  for (const [file, text] of contents) {
    const base = posix.basename(file);
    // Most configs extend nothing relative: those are not parsed here.
    if (!text.includes("./") || !(ESLINTRC_DATA.includes(base) || base === "package.json" || /\.(json|ya?ml)$/.test(base))) continue;
    try {
      visit(ESLINTRC_DATA.includes(base) ? parseConfigText(text, file) : parseExtendedText(text, file), file);
    } catch {
      // Unreadable: the settings say so in their notes.
    }
  }
  return named;
}

/**
 * The files the relative `extends` of the configs in `contents` name that are
 * data files of the commit (`paths`) not in `contents` yet: what a reader of
 * blobs fetches next (repeatedly: an extended file may extend another).
 */
export function extendedConfigPaths(paths: ReadonlySet<string>, contents: ReadonlyMap<string, string>): string[] {
  return [...namedExtends(contents)].filter((p) => !JS_CONFIG.test(p) && paths.has(p) && !contents.has(p));
}

/**
 * Adds to `contents` the texts of the commit's data files (`paths`) that the
 * relative `extends` of its configs name, and those extend, MAX_EXTENDS_ROUNDS
 * deep; `read` gives texts by path. Returns the paths added, in the order read.
 */
export async function readExtended(
  paths: ReadonlySet<string>,
  contents: Map<string, string>,
  read: (paths: string[]) => Promise<ReadonlyMap<string, string>>,
): Promise<string[]> {
  const added: string[] = [];
  for (let round = 0; round < MAX_EXTENDS_ROUNDS; round++) {
    const next = extendedConfigPaths(paths, contents);
    if (next.length === 0) break;
    for (const [p, text] of await read(next)) contents.set(p, text);
    added.push(...next);
  }
  return added;
}
