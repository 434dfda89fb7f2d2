/**
 * A repository's legacy ESLint configuration read as data from the commit's
 * tree (`.eslintrc.yaml|yml|json`, `.eslintrc`, package.json "eslintConfig",
 * `.eslintignore`) and translated to farm's effective config, as ESLint 8.57
 * (the last release that read these files) would apply it: cascade by
 * directory up to `root: true`, `overrides`, `ignorePatterns`, `env`,
 * `globals`, `parserOptions`, `rules`, `extends` of the configs farm bundles.
 * Nothing is executed: `.eslintrc.js`/`.cjs` are code, noted and not used.
 * What cannot be honoured (a config or plugin farm does not bundle, a rule
 * unknown to farm's ESLint, invalid options, a file that does not parse) is
 * dropped and said once per commit in the notes, never an error.
 */
import { posix } from "node:path";
import type { ESLint, Linter } from "eslint";
import { builtinRules, eslintApi, eslintConfigs } from "./eslint-api.js";
import ignore, { type Ignore } from "ignore";
import { createRequire } from "node:module";
import type { Minimatch } from "minimatch";
import { ESLINTRC_CODE, ESLINTRC_DATA, ESLINTRC_ORDER, JS_CONFIG, parseConfigText, parseExtendedText, relativeExtendsTarget } from "./extends.js";
import { isPlainObject } from "./jsonc.js";
import { dirOf } from "./source-type.js";
import { tsEslint, type TsEslint } from "./typescript-eslint.js";
import type { EslintrcEffective, Language, RuleEntry, RuleOverrides } from "./types.js";

/** minimatch, loaded at the first eslintrc with overrides (most start-ups have none). */
let minimatchPkg: typeof import("minimatch") | undefined;
const minimatch = () => (minimatchPkg ??= createRequire(import.meta.url)("minimatch") as typeof import("minimatch"));

export { ESLINTRC_CODE, ESLINTRC_DATA, ESLINTRC_ORDER };
/** ESLint 8 reads the ignore file of its cwd only: the repo root's. */
export const ESLINTIGNORE = ".eslintignore";

/** True for the data files this module reads (package.json is read anyway). */
export function isEslintrcDataPath(path: string): boolean {
  return path === ESLINTIGNORE || ESLINTRC_DATA.includes(posix.basename(path));
}

type GlobalValue = "readonly" | "writable" | "off";

/**
 * ESLint 8's environments (@eslint/eslintrc conf/environments.js): the `globals`
 * package set each one adds, the ecmaVersion it implies, and whether it allows a
 * top-level return.
 */
const ENVS: Record<string, { globals?: string; ecmaVersion?: number; globalReturn?: true }> = {
  browser: { globals: "browser" },
  node: { globals: "node", globalReturn: true },
  commonjs: { globals: "commonjs", globalReturn: true },
  "shared-node-browser": { globals: "shared-node-browser" },
  worker: { globals: "worker" },
  serviceworker: { globals: "serviceworker" },
  es6: { globals: "es2015", ecmaVersion: 6 },
  es2015: { globals: "es2015", ecmaVersion: 6 },
  es2016: { globals: "es2016", ecmaVersion: 7 },
  es2017: { globals: "es2017", ecmaVersion: 8 },
  es2018: { globals: "es2018", ecmaVersion: 9 },
  es2019: { globals: "es2019", ecmaVersion: 10 },
  es2020: { globals: "es2020", ecmaVersion: 11 },
  es2021: { globals: "es2021", ecmaVersion: 12 },
  es2022: { globals: "es2022", ecmaVersion: 13 },
  es2023: { globals: "es2023", ecmaVersion: 14 },
  es2024: { globals: "es2024", ecmaVersion: 15 },
  ...Object.fromEntries(
    [
      "amd",
      "mocha",
      "jasmine",
      "jest",
      "phantomjs",
      "jquery",
      "qunit",
      "prototypejs",
      "shelljs",
      "meteor",
      "mongo",
      "protractor",
      "applescript",
      "nashorn",
      "atomtest",
      "embertest",
      "webextensions",
      "greasemonkey",
    ].map((n) => [n, { globals: n }]),
  ),
};

/** Bundled shareable configs, by the name a `.eslintrc` extends. typescript-eslint's apply to TypeScript files only. */
const TS_CONFIGS: Record<string, keyof TsEslint["configs"]> = {
  "plugin:@typescript-eslint/recommended": "recommended",
  "plugin:@typescript-eslint/strict": "strict",
  "plugin:@typescript-eslint/stylistic": "stylistic",
  "plugin:@typescript-eslint/eslint-recommended": "eslintRecommended",
  "plugin:@typescript-eslint/base": "base",
};

/** Plugins farm bundles (their rules can be configured). */
const BUNDLED_PLUGINS = new Set(["@typescript-eslint"]);
/** Parsers farm bundles; files under any other keep espree (a note says so). */
const BUNDLED_PARSERS = new Set(["espree", "@typescript-eslint/parser"]);

/** One config element in ESLint 8's sense: a config file's own settings, one of its `extends`, or an override. */
interface Layer {
  env: Record<string, boolean>;
  globals: Record<string, GlobalValue>;
  ecmaVersion?: number | "latest";
  sourceType?: "script" | "module" | "commonjs";
  ecmaFeatures: Partial<Record<"jsx" | "globalReturn" | "impliedStrict", boolean>>;
  rules: RuleOverrides;
  /** From typescript-eslint's configs: applies to TypeScript files only. */
  tsOnly?: true;
}

interface Override {
  id: string;
  files: Minimatch[];
  excluded: Minimatch[];
  elements: Element[];
}

/**
 * A config's elements in ESLint 8's order (ascending precedence): each
 * `extends` (an extended file's own overrides included), its own settings,
 * then its overrides, which apply only where they match.
 */
type Element = { layer: Layer } | { override: Override };

/** One directory's config file, parsed. */
interface RcFile {
  dir: string;
  file: string;
  root: boolean;
  elements: Element[];
  ignore: Ignore | null;
}

/** While one config file is parsed: its override ids, and the chain of files extending each other (cycles). */
interface ParseContext {
  ids: { next: number };
  stack: string[];
}

/** What the commit's notes say once about what was not honoured. */
class Unhonoured {
  readonly configs = new Map<string, Set<string>>();
  readonly plugins = new Map<string, Set<string>>();
  readonly parsers = new Map<string, Set<string>>();
  readonly envs = new Map<string, Set<string>>();
  readonly unknownRules = new Map<string, Set<string>>();
  readonly invalidRules = new Map<string, Set<string>>();
  readonly other: string[] = [];

  add(map: Map<string, Set<string>>, what: string, file: string): void {
    let files = map.get(what);
    if (!files) map.set(what, (files = new Set()));
    files.add(file);
  }

  notes(eslintVersion: string): string[] {
    const list = (m: Map<string, Set<string>>) => [...m].map(([what, files]) => `${what} (${[...files].join(", ")})`).join("; ");
    const out = [...this.other];
    if (this.configs.size > 0) out.push(`ESLint configs farm does not bundle, not applied: ${list(this.configs)}`);
    if (this.plugins.size > 0) out.push(`ESLint plugins farm does not bundle, their rules dropped: ${list(this.plugins)}`);
    if (this.parsers.size > 0) out.push(`ESLint parsers farm does not bundle, files parsed with espree: ${list(this.parsers)}`);
    if (this.envs.size > 0) out.push(`ESLint environments farm does not know, ignored: ${list(this.envs)}`);
    if (this.unknownRules.size > 0) out.push(`ESLint rules unknown to ESLint ${eslintVersion}, dropped: ${list(this.unknownRules)}`);
    if (this.invalidRules.size > 0) out.push(`ESLint rules with invalid settings, dropped: ${list(this.invalidRules)}`);
    return out;
  }
}

/** typescript-eslint's rules by name (loading it only when a config names one). */
const tsRules = (): Record<string, unknown> => (tsEslint().plugin as { rules?: Record<string, unknown> }).rules ?? {};
const MAX_REASON = 200;
const CWD = "/farm-lint";
let linter: Linter | undefined;
/** Rule settings' verdicts (null: valid), by JSON of [id, entry]: the same settings recur across a history. */
const verdicts = new Map<string, string | null>();
const MAX_VERDICTS = 10_000;

/** Why ESLint would refuse `entry` for rule `id` ("unknown" for a rule it lacks), or null. */
function ruleProblem(id: string, entry: RuleEntry): string | null {
  const key = JSON.stringify([id, entry]);
  const known = verdicts.get(key);
  if (known !== undefined) return known;
  let verdict: string | null = null;
  const exists = id.startsWith("@typescript-eslint/") ? Object.hasOwn(tsRules(), id.slice("@typescript-eslint/".length)) : builtinRules().has(id);
  if (!exists) verdict = "unknown";
  else {
    linter ??= new (eslintApi().Linter)({ configType: "flat", cwd: CWD });
    try {
      const plugins: Record<string, ESLint.Plugin> = id.startsWith("@typescript-eslint/") ? { "@typescript-eslint": tsEslint().plugin } : {};
      linter.verify("", [{ plugins, rules: { [id]: entry } }], {
        filename: `${CWD}/probe.js`,
      });
    } catch (err) {
      const text = (err as Error).message.replace(/\s+/g, " ").replace(/^Key "rules": Key "[^"]+": /, "");
      verdict = text.length > MAX_REASON ? `${text.slice(0, MAX_REASON)}…` : text;
    }
  }
  if (verdicts.size >= MAX_VERDICTS) verdicts.clear();
  verdicts.set(key, verdict);
  return verdict;
}

const SEVERITY: Record<string, 0 | 1 | 2> = { off: 0, warn: 1, error: 2, "0": 0, "1": 1, "2": 2 };

/** The plugin namespace of a rule id ("react-hooks/exhaustive-deps" → "react-hooks"), or null for core rules. */
function pluginOf(id: string): string | null {
  const i = id.lastIndexOf("/");
  return i === -1 ? null : id.slice(0, i);
}

/** Loaded eslintrc configuration of one commit. */
export class EslintrcSettings {
  /** Config files by directory ("" = root). */
  private readonly rcs = new Map<string, RcFile>();
  private readonly rootIgnore: Ignore | null;
  private readonly rootIgnorePatterns: string[] = [];
  private readonly effectiveByKey = new Map<string, EslintrcEffective>();
  readonly notes: string[];
  private readonly unhonoured = new Unhonoured();
  private readonly pathSet: ReadonlySet<string>;

  /**
   * `paths`: the commit's regular paths; `get`: contents of the data files and
   * package.json files; `eslintVersion`: for the notes.
   */
  constructor(
    paths: readonly string[],
    private readonly get: (path: string) => string,
    eslintVersion: string,
  ) {
    this.pathSet = new Set(paths);
    const byDir = new Map<string, string[]>();
    for (const p of paths) {
      const base = posix.basename(p);
      if (!ESLINTRC_ORDER.includes(base)) continue;
      const dir = dirOf(p);
      byDir.set(dir, [...(byDir.get(dir) ?? []), base]);
    }
    const notUsed: string[] = [];
    for (const [dir, names] of byDir) {
      const at = (n: string) => (dir === "" ? n : `${dir}/${n}`);
      for (const name of ESLINTRC_ORDER) {
        if (!names.includes(name)) continue;
        const file = at(name);
        if (ESLINTRC_CODE.includes(name)) {
          // ESLint 8 would use this file and none other of the directory: farm uses none.
          notUsed.push(file);
          break;
        }
        let raw: unknown;
        try {
          raw = parseConfigText(get(file), file);
        } catch (err) {
          if (name === "package.json") break; // an unreadable package.json says nothing about ESLint
          this.unhonoured.other.push(`${file}: not used (${(err as Error).message.split("\n")[0]})`);
          break;
        }
        if (name === "package.json") {
          if (!isPlainObject(raw) || raw.eslintConfig === undefined) continue;
          raw = raw.eslintConfig;
        }
        if (!isPlainObject(raw)) {
          this.unhonoured.other.push(`${file}: not used (an ESLint config must be an object)`);
          break;
        }
        this.rcs.set(dir, this.parseRc(raw, dir, file));
        break;
      }
    }
    if (notUsed.length > 0) this.unhonoured.other.push(`ESLint config found and not used (JavaScript is code, farm never runs it): ${notUsed.join(", ")}`);

    if (paths.includes(ESLINTIGNORE)) {
      this.rootIgnorePatterns = get(ESLINTIGNORE)
        .replace(/^\uFEFF/, "")
        .split(/\r?\n/);
      this.rootIgnore = ignore({ allowRelativePaths: true }).add(this.rootIgnorePatterns);
    } else this.rootIgnore = null;
    this.notes = this.unhonoured.notes(eslintVersion);
  }

  /** True when the commit has any eslintrc configuration farm uses. */
  get any(): boolean {
    return this.rcs.size > 0 || this.rootIgnore !== null;
  }

  /**
   * The config files that apply to `path` (nearest first, up to `root: true`)
   * and the overrides that match, as a key for {@link effective}; null when no
   * eslintrc applies. `ignored`: ESLint 8 would not lint the file.
   */
  match(path: string): { key: string | null; ignored: boolean } {
    const chain: RcFile[] = [];
    for (let dir = dirOf(path); ; dir = dirOf(dir)) {
      const rc = this.rcs.get(dir);
      if (rc) {
        chain.push(rc);
        if (rc.root) break;
      }
      if (dir === "") break;
    }
    const ignored = this.isIgnored(path, chain);
    if (chain.length === 0) return { key: null, ignored };
    const parts: string[] = [];
    for (const rc of chain.reverse()) {
      const rel = rc.dir === "" ? path : path.slice(rc.dir.length + 1);
      const matched: string[] = [];
      const walk = (list: Element[]) => {
        for (const e of list) {
          if (!("override" in e)) continue;
          const o = e.override;
          if (!o.files.some((m) => m.match(rel)) || o.excluded.some((m) => m.match(rel))) continue;
          matched.push(o.id);
          walk(o.elements);
        }
      };
      walk(rc.elements);
      parts.push(`${rc.dir}\0${matched.join(",")}`);
    }
    return { key: parts.join("\n"), ignored };
  }

  /** The translated config of a {@link match} key for a file of `language` (built once per key). */
  effective(key: string, language: Language): EslintrcEffective {
    const memo = `${language}\n${key}`;
    const known = this.effectiveByKey.get(memo);
    if (known) return known;
    const layers: Layer[] = [];
    for (const part of key.split("\n")) {
      const [dir, ids] = part.split("\0");
      const rc = this.rcs.get(dir)!;
      const matched = new Set(ids ? ids.split(",") : []);
      const walk = (list: Element[]) => {
        for (const e of list) {
          if ("layer" in e) layers.push(e.layer);
          else if (matched.has(e.override.id)) walk(e.override.elements);
        }
      };
      walk(rc.elements);
    }
    const out = merge(
      layers.filter((l) => language === "ts" || !l.tsOnly),
      language,
    );
    this.effectiveByKey.set(memo, out);
    return out;
  }

  private isIgnored(path: string, chain: readonly RcFile[]): boolean {
    if (this.rootIgnore?.ignores(path)) return true;
    if (chain.length === 0) return false;
    // ESLint 8's defaults (dotfiles and node_modules), which the root .eslintignore can re-include.
    if (defaultIgnore(this.rootIgnorePatterns).ignores(path)) return true;
    for (const rc of chain) {
      if (!rc.ignore) continue;
      const rel = rc.dir === "" ? path : path.slice(rc.dir.length + 1);
      if (rc.ignore.ignores(rel)) return true;
    }
    return false;
  }

  private parseRc(raw: Record<string, unknown>, dir: string, file: string): RcFile {
    let ig: Ignore | null = null;
    const patterns = raw.ignorePatterns === undefined ? [] : Array.isArray(raw.ignorePatterns) ? raw.ignorePatterns : [raw.ignorePatterns];
    const strings = patterns.filter((p): p is string => typeof p === "string");
    if (strings.length !== patterns.length) this.unhonoured.other.push(`${file}: "ignorePatterns" entries that are not strings ignored`);
    if (strings.length > 0) ig = ignore({ allowRelativePaths: true }).add(strings);
    return { dir, file, root: raw.root === true, elements: this.elementsOf(raw, file, { ids: { next: 0 }, stack: [file] }), ignore: ig };
  }

  /** A config object's overrides, each with its own elements (nested overrides, `extends` of its own). */
  private overridesOf(list: unknown, file: string, ctx: ParseContext): Element[] {
    if (list === undefined) return [];
    if (!Array.isArray(list)) {
      this.unhonoured.other.push(`${file}: "overrides" must be an array: ignored`);
      return [];
    }
    const out: Element[] = [];
    for (const o of list) {
      if (!isPlainObject(o)) continue;
      const globs = (v: unknown) => (v === undefined ? [] : Array.isArray(v) ? v : [v]).filter((g): g is string => typeof g === "string");
      // ESLint 8's OverrideTester: minimatch relative to the (extending) config's directory; a pattern without "/" matches the base name.
      const compile = (g: string) => new (minimatch().Minimatch)(g, { dot: true, matchBase: true });
      const id = String(ctx.ids.next++);
      out.push({
        override: { id, files: globs(o.files).map(compile), excluded: globs(o.excludedFiles).map(compile), elements: this.elementsOf(o, file, ctx) },
      });
    }
    return out;
  }

  /**
   * A relative `extends` ("./base.json", "../.eslintrc.yml"): the file from the
   * commit's tree, read as data (a JavaScript one is code: never run), its
   * elements in place of the name. Its overrides match relative to the
   * extending config's directory, as in ESLint 8.
   */
  private extendedElements(name: string, file: string, ctx: ParseContext): Element[] {
    const target = relativeExtendsTarget(name, file);
    const not = (why: string) => (this.unhonoured.other.push(`${file}: extends "${name}" ${why}: not applied`), []);
    if (target === null) return not("points outside the repository");
    if (JS_CONFIG.test(target)) return not("is JavaScript (code: farm never runs it)");
    if (!this.pathSet.has(target)) return not("is not a file of the commit");
    if (ctx.stack.includes(target)) return not(`extends itself (${[...ctx.stack, target].join(" → ")})`);
    let raw: unknown;
    try {
      raw = parseExtendedText(this.get(target), target);
    } catch (err) {
      return not(`could not be read (${(err as Error).message.split("\n")[0]})`);
    }
    if (!isPlainObject(raw)) return not("is not an ESLint config object");
    if (raw.ignorePatterns !== undefined) this.unhonoured.other.push(`${target}: "ignorePatterns" of an extended config not applied`);
    return this.elementsOf(raw, target, { ...ctx, stack: [...ctx.stack, target] });
  }

  /** A config object's `extends` (bundled and relative ones, in order), its own settings, then its overrides. */
  private elementsOf(raw: Record<string, unknown>, file: string, ctx: ParseContext): Element[] {
    const elements: Element[] = [];
    const ext = raw.extends === undefined ? [] : Array.isArray(raw.extends) ? raw.extends : [raw.extends];
    for (const name of ext) {
      if (typeof name !== "string") continue;
      if (name === "eslint:recommended" || name === "eslint:all") {
        elements.push({ layer: { ...emptyLayer(), rules: { ...(name === "eslint:all" ? eslintConfigs().all : eslintConfigs().recommended).rules } } });
      } else if (name in TS_CONFIGS) {
        const blocks = [tsEslint().configs[TS_CONFIGS[name]]].flat() as Linter.Config[];
        const rules = Object.assign({}, ...blocks.map((b) => b.rules ?? {})) as RuleOverrides;
        elements.push({ layer: { ...emptyLayer(), rules, tsOnly: true } });
      } else if (name.startsWith("./") || name.startsWith("../")) {
        elements.push(...this.extendedElements(name, file, ctx));
      } else {
        this.unhonoured.add(this.unhonoured.configs, name, file);
      }
    }
    const plugins = raw.plugins === undefined ? [] : Array.isArray(raw.plugins) ? raw.plugins : [];
    for (const p of plugins) {
      if (typeof p !== "string") continue;
      const ns = p.startsWith("@") ? p.replace(/\/eslint-plugin$/, "") : p.replace(/^eslint-plugin-/, "");
      if (!BUNDLED_PLUGINS.has(ns)) this.unhonoured.add(this.unhonoured.plugins, ns, file);
    }
    if (typeof raw.parser === "string" && !BUNDLED_PARSERS.has(raw.parser)) this.unhonoured.add(this.unhonoured.parsers, raw.parser, file);

    const own = emptyLayer();
    if (isPlainObject(raw.env)) {
      for (const [name, on] of Object.entries(raw.env)) {
        if (name in ENVS) own.env[name] = on === true;
        else if (on) this.unhonoured.add(this.unhonoured.envs, name, file);
      }
    }
    if (isPlainObject(raw.globals)) {
      for (const [name, v] of Object.entries(raw.globals)) {
        // ESLint 8's normalisation: true/"writable"/"writeable" (and "true") writable, false/"readonly"/"readable" readonly.
        const value: GlobalValue | undefined =
          v === true || v === "true" || v === "writable" || v === "writeable"
            ? "writable"
            : v === false || v === "false" || v === null || v === "readonly" || v === "readable"
              ? "readonly"
              : v === "off"
                ? "off"
                : undefined;
        if (value) own.globals[name] = value;
        else this.unhonoured.other.push(`${file}: global ${JSON.stringify(name)} has an invalid value: ignored`);
      }
    }
    if (isPlainObject(raw.parserOptions)) {
      const po = raw.parserOptions;
      const v = po.ecmaVersion;
      if (v === "latest" || (typeof v === "number" && (v === 3 || v === 5 || (v >= 6 && v <= 17) || (v >= 2015 && v <= 2026)))) own.ecmaVersion = v;
      else if (v !== undefined) this.unhonoured.other.push(`${file}: parserOptions.ecmaVersion ${JSON.stringify(v)} is not supported: ignored`);
      if (po.sourceType === "script" || po.sourceType === "module" || po.sourceType === "commonjs") own.sourceType = po.sourceType;
      if (isPlainObject(po.ecmaFeatures)) {
        for (const f of ["jsx", "globalReturn", "impliedStrict"] as const)
          if (typeof po.ecmaFeatures[f] === "boolean") own.ecmaFeatures[f] = po.ecmaFeatures[f];
      }
    }
    if (isPlainObject(raw.rules)) {
      for (const [id, value] of Object.entries(raw.rules)) {
        const entry = this.ruleEntry(id, value, file);
        if (entry !== null) own.rules[id] = entry;
      }
    }
    elements.push({ layer: own }, ...this.overridesOf(raw.overrides, file, ctx));
    return elements;
  }

  /** A rule setting farm can run, or null (dropped, with its note). */
  private ruleEntry(id: string, value: unknown, file: string): RuleEntry | null {
    const ns = pluginOf(id);
    if (ns !== null && !BUNDLED_PLUGINS.has(ns)) {
      this.unhonoured.add(this.unhonoured.plugins, ns, file);
      return null;
    }
    const [sev, ...options] = (Array.isArray(value) ? value : [value]) as unknown[];
    const n = typeof sev === "string" || typeof sev === "number" ? SEVERITY[String(sev)] : undefined;
    if (n === undefined) {
      this.unhonoured.add(this.unhonoured.invalidRules, `${id}: severity ${JSON.stringify(value)}`, file);
      return null;
    }
    const entry: RuleEntry = options.length > 0 ? [n, ...options] : n;
    const problem = ruleProblem(id, entry);
    if (problem === "unknown") this.unhonoured.add(this.unhonoured.unknownRules, id, file);
    else if (problem !== null) this.unhonoured.add(this.unhonoured.invalidRules, `${id}: ${problem}`, file);
    return problem === null ? entry : null;
  }
}

const defaultIgnores = new Map<string, Ignore>();

/** ESLint 8's default ignores (node_modules, dotfiles) followed by the root `.eslintignore`, whose `!` lines re-include. */
function defaultIgnore(rootPatterns: readonly string[]): Ignore {
  const key = rootPatterns.join("\n");
  let ig = defaultIgnores.get(key);
  if (!ig) {
    ig = ignore({ allowRelativePaths: true }).add(["node_modules/", ".*", "!.eslintrc.*", ...rootPatterns]);
    if (defaultIgnores.size > 64) defaultIgnores.clear();
    defaultIgnores.set(key, ig);
  }
  return ig;
}

function emptyLayer(): Layer {
  return { env: {}, globals: {}, ecmaFeatures: {}, rules: {} };
}

/** Layers in ascending precedence merged as ESLint 8's ConfigArray does. */
function merge(layers: readonly Layer[], language: Language): EslintrcEffective {
  const env: Record<string, boolean> = {};
  const globals: Record<string, GlobalValue> = {};
  const features: Layer["ecmaFeatures"] = {};
  let ecmaVersion: number | "latest" | undefined;
  let sourceType: Layer["sourceType"];
  const rules: RuleOverrides = {};
  for (const l of layers) {
    Object.assign(env, l.env);
    Object.assign(globals, l.globals);
    Object.assign(features, l.ecmaFeatures);
    ecmaVersion = l.ecmaVersion ?? ecmaVersion;
    sourceType = l.sourceType ?? sourceType;
    for (const [id, entry] of Object.entries(l.rules)) {
      const before = rules[id];
      // A severity alone keeps the options set further away (ESLint 8's rule merge).
      rules[id] = !Array.isArray(entry) && Array.isArray(before) && before.length > 1 ? [entry, ...before.slice(1)] : entry;
    }
  }
  const envs = Object.keys(env)
    .filter((e) => env[e])
    .sort();
  const envVersion = Math.max(5, ...envs.map((e) => ENVS[e].ecmaVersion ?? 5));
  const type = sourceType ?? "script";
  const ts = language === "ts";
  return {
    // ESLint 8's "builtin" environment: ES5's globals always.
    envGlobals: [...new Set(["es5", ...envs.map((e) => ENVS[e].globals!)])],
    globals,
    ecmaVersion: ecmaVersion ?? envVersion,
    sourceType: type,
    ecmaFeatures: {
      jsx: features.jsx ?? false,
      globalReturn: type !== "module" && (features.globalReturn ?? envs.some((e) => ENVS[e].globalReturn)),
      impliedStrict: features.impliedStrict ?? false,
    },
    rules: ts ? rules : Object.fromEntries(Object.entries(rules).filter(([id]) => !id.startsWith("@typescript-eslint/"))),
  };
}
