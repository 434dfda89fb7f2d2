/**
 * In-process lint engine: one file at a time, one warm ESLint instance per
 * effective config (the ESLint class caches the computed config and is much
 * faster warm). No time limit here: synchronous linter code cannot be
 * interrupted in its own thread; the pool enforces time limits.
 */
import { posix } from "node:path";
import type { ESLint, Linter } from "eslint";
import { eslintApi, eslintConfigs, globalsSets } from "./eslint-api.js";
import { configId } from "./config-id.js";
import { RepoConfigError } from "./errors.js";
import { firstLine, runJshint } from "./jshint.js";
import { LINTABLE_EXTENSIONS } from "./source-type.js";
import { tsEslint } from "./typescript-eslint.js";
import type { EslintrcEffective, FileLintConfig, LinterName, LintMessage, LintTask } from "./types.js";
import { matchablePath } from "../git/paths.js";

export interface LintEngineOptions {
  /**
   * Absolute directory that repo paths are resolved against for ESLint's
   * config matching. Never read from disk. Default "/farm-lint".
   */
  cwd?: string;
  /** Warm ESLint instances kept (least recently used dropped first). Default 32. */
  maxCachedConfigs?: number;
  /**
   * TESTS ONLY: flat-config blocks appended to every ESLint config (before the
   * repo's rule overrides). Set by the code that creates the engine, never
   * derived from repo content. Not part of config ids.
   */
  testOnlyExtraEslintConfig?: Linter.Config[];
}

/** Observer of a file's progress; the pool uses it to name the linter that timed out. */
export interface LintProgress {
  /** Called before each linter runs, with the messages of the linters that already ran. */
  onLinterStart?(linter: LinterName, messagesSoFar: readonly LintMessage[]): void;
}

/** Every lintable extension: a block with these `files` makes ESLint lint .jsx/.ts/… too. */
export const LINT_FILES = LINTABLE_EXTENSIONS.map((ext) => `**/*${ext}`);

/**
 * The flat config for one effective config: the documented default (recommended
 * rules, latest syntax, Node globals, typescript-eslint recommended for TS)
 * followed by the repo's rule overrides.
 */
export function eslintConfigFor(config: FileLintConfig, extra: Linter.Config[] = []): Linter.Config[] {
  if (config.eslintrc) return eslintrcConfigFor(config, config.eslintrc, extra);
  const blocks: Linter.Config[] = [
    // ESLint ignores node_modules by default; the repo's "ignores" decided already which files to lint.
    { ignores: ["!**/node_modules/"] },
    eslintConfigs().recommended,
    {
      files: LINT_FILES,
      languageOptions: {
        ecmaVersion: "latest",
        sourceType: config.sourceType,
        globals: config.extraGlobals ? Object.assign({}, globalsSets().node, ...config.extraGlobals.map(globalsSet)) : globalsSets().node,
        ...(config.jsx ? { parserOptions: { ecmaFeatures: { jsx: true } } } : {}),
      },
    },
  ];
  if (config.language === "ts") blocks.push(...(tsEslint().configs.recommended as Linter.Config[]));
  blocks.push(...extra);
  if (Object.keys(config.rules).length > 0) blocks.push({ files: LINT_FILES, rules: config.rules });
  return blocks;
}

const ESLINT_ENV_COMMENT = /^\/\* eslint-env \*\/ comments are no longer supported/;

/**
 * A file this long (in characters) is big: its parsed source (AST, tokens,
 * scopes) and what rules build on it take tens to hundreds of MB while it is
 * linted. ESLint keeps the last file's in each instance until the next lint:
 * after a big file an instance lints an empty text, so that up to
 * maxCachedConfigs warm instances do not each hold a bundle's tree for the
 * rest of a history. The pool gives big files to one thread (LintPool).
 */
export const BIG_FILE_CHARS = 64 * 1024;

/** A set of the `globals` package by name (names come from farm's own tables, never from a repo). */
function globalsSet(name: string): Linter.Globals {
  const set = (globalsSets() as Record<string, Linter.Globals | undefined>)[name];
  if (!set) throw new Error(`no globals set ${JSON.stringify(name)} in the globals package`);
  return set;
}

/** The newest `esNNNN` set of the globals package: what ESLint gives `ecmaVersion: "latest"`. */
let latestEsYear: number | undefined;
const latestYear = () => (latestEsYear ??= Math.max(...Object.keys(globalsSets()).flatMap((k) => (/^es(\d{4})$/.test(k) ? [Number(k.slice(2))] : []))));

/** The ES globals flat config adds for `languageOptions.ecmaVersion` (as ESLint's own table: ES5's up to 5). */
function globalsOfVersion(ecmaVersion: number | "latest"): Linter.Globals {
  if (ecmaVersion !== "latest" && ecmaVersion <= 5) return globalsSet("es5");
  const year = ecmaVersion === "latest" ? latestYear() : ecmaVersion < 2015 ? ecmaVersion + 2009 : ecmaVersion;
  return globalsSet(`es${Math.min(year, latestYear())}`);
}

/**
 * An eslintrc's globals as ESLint 8 gives them: ES5's and its envs' (es6, es2017…) and its own. Flat config
 * also adds every global of `ecmaVersion` (a root `ecmaVersion: 2017` would make `Set` defined without the
 * `es6` env ESLint 8 needs): those are turned off, unless an env or the config gives them.
 */
function eslintrcGlobals(rc: EslintrcEffective): Linter.Globals {
  const given = Object.assign({}, ...rc.envGlobals.map(globalsSet), rc.globals) as Linter.Globals;
  const off = Object.keys(globalsOfVersion(rc.ecmaVersion)).filter((name) => !Object.hasOwn(given, name));
  return Object.assign(Object.fromEntries(off.map((name) => [name, "off"])), given);
}

/**
 * The flat config of a repo's translated `.eslintrc` (config.eslintrc): its
 * language options and rules only, as ESLint 8 would run it (no implicit
 * recommended rules, unused disable directives not reported); TypeScript
 * files are parsed by typescript-eslint, whose rules are then available.
 * `.farm.json` rules come last.
 */
function eslintrcConfigFor(config: FileLintConfig, rc: EslintrcEffective, extra: Linter.Config[]): Linter.Config[] {
  const blocks: Linter.Config[] = [
    { ignores: ["!**/node_modules/"] },
    {
      files: LINT_FILES,
      linterOptions: { reportUnusedDisableDirectives: "off" },
      languageOptions: {
        ecmaVersion: rc.ecmaVersion,
        sourceType: rc.sourceType,
        globals: eslintrcGlobals(rc),
        parserOptions: { ecmaFeatures: rc.ecmaFeatures },
      },
    },
  ];
  if (config.language === "ts") {
    blocks.push({
      files: LINT_FILES,
      languageOptions: { parser: tsEslint().parser },
      plugins: { "@typescript-eslint": tsEslint().plugin },
    });
  }
  blocks.push(...extra);
  if (Object.keys(rc.rules).length > 0) blocks.push({ files: LINT_FILES, rules: rc.rules });
  if (Object.keys(config.rules).length > 0) blocks.push({ files: LINT_FILES, rules: config.rules });
  return blocks;
}

/** A file name with the extension that makes ESLint pick the same config blocks. */
export function probePath(config: FileLintConfig): string {
  const ext = config.language === "ts" ? (config.jsx ? ".tsx" : ".ts") : config.jsx ? ".jsx" : ".js";
  return `__farm_probe__${ext}`;
}

export class LintEngine {
  readonly cwd: string;
  private readonly maxCached: number;
  private readonly extra: Linter.Config[];
  /** config id → validated instance; Map order doubles as LRU order. */
  private readonly instances = new Map<string, Promise<ESLint>>();

  constructor(options: LintEngineOptions = {}) {
    this.cwd = options.cwd ?? "/farm-lint";
    this.maxCached = Math.max(1, options.maxCachedConfigs ?? 32);
    this.extra = options.testOnlyExtraEslintConfig ?? [];
  }

  /** Number of warm ESLint instances. */
  get cachedConfigs(): number {
    return this.instances.size;
  }

  /**
   * Messages of one file from every enabled linter, ESLint first. A parse error
   * or a linter crash is a fatal message. Throws RepoConfigError only when the
   * config itself is invalid (unknown rule, bad rule options).
   */
  async lintFile(task: LintTask, progress: LintProgress = {}): Promise<LintMessage[]> {
    const messages: LintMessage[] = [];
    for (const linter of task.config.linters) {
      progress.onLinterStart?.(linter, messages);
      if (linter === "eslint") messages.push(...(await this.runEslint(task)));
      else messages.push(...runJshint(task.content, task.config.jshint));
    }
    return messages;
  }

  /** The warm, validated ESLint instance of a config (created on first use). */
  eslintFor(config: FileLintConfig): Promise<ESLint> {
    const id = configId(config);
    let hit = this.instances.get(id);
    if (hit) {
      this.instances.delete(id); // move to the LRU tail
      this.instances.set(id, hit);
      return hit;
    }
    hit = this.createEslint(config);
    this.instances.set(id, hit);
    // A config that fails validation is not kept: it pins nothing and the error stays reproducible.
    hit.catch(() => this.instances.get(id) === hit && this.instances.delete(id));
    while (this.instances.size > this.maxCached) this.instances.delete(this.instances.keys().next().value!);
    return hit;
  }

  private async createEslint(config: FileLintConfig): Promise<ESLint> {
    const eslint = new (eslintApi().ESLint)({
      cwd: this.cwd,
      overrideConfigFile: true, // never look for a config file: repo JS configs are code
      overrideConfig: eslintConfigFor(config, this.extra),
    });
    try {
      // ESLint validates a config when it first computes it for a file: do it now, on empty input,
      // so later throws can only come from rules crashing on content.
      await eslint.lintText("", { filePath: `${this.cwd}/${probePath(config)}` });
    } catch (err) {
      throw new RepoConfigError(`invalid ESLint settings: ${(err as Error).message}`, undefined, { cause: err });
    }
    return eslint;
  }

  /**
   * The path ESLint sees: always inside cwd (a path outside it would be
   * silently ignored), e.g. "../x.js" or "/home/me/x.js" from a `lint.file` client.
   */
  private virtualPath(path: string): string {
    const inside = posix.normalize(`/${path.replace(/\\/g, "/")}`);
    return `${this.cwd}${inside}`;
  }

  private async runEslint(task: LintTask): Promise<LintMessage[]> {
    const eslint = await this.eslintFor(task.config);
    let results: ESLint.LintResult[];
    try {
      results = await eslint.lintText(task.content, { filePath: this.virtualPath(matchablePath(task.path)), warnIgnored: false });
    } catch (err) {
      // A rule crashing on this content is this file's result, not a reason to retry.
      return [fatal("eslint", `eslint crashed: ${firstLine(err)}`)];
    }
    const messages = (results[0]?.messages ?? []).map(fromEslint);
    // The empty text parsed and linted when the instance was made cannot fail now.
    if (task.content.length > BIG_FILE_CHARS) await eslint.lintText("", { filePath: `${this.cwd}/${probePath(task.config)}` }).catch(() => undefined);
    // ESLint 8 honoured `/* eslint-env */` in eslintrc mode; ESLint 10 reports it. The repo's own setup did not: not an issue.
    return task.config.eslintrc ? messages.filter((m) => !(m.ruleId === null && ESLINT_ENV_COMMENT.test(m.message))) : messages;
  }
}

function fromEslint(m: Linter.LintMessage): LintMessage {
  const msg: LintMessage = {
    linter: "eslint",
    ruleId: m.ruleId,
    severity: m.severity === 1 ? 1 : 2,
    // File-level messages carry no position; reports (and SARIF) want 1-based lines.
    line: m.line || 1,
    column: m.column || 1,
    message: m.message,
  };
  if (m.endLine !== undefined) msg.endLine = m.endLine;
  if (m.endColumn !== undefined) msg.endColumn = m.endColumn;
  if (m.fatal) msg.fatal = true;
  return msg;
}

/** A fatal message for a linter that did not produce results for the file. */
export function fatal(linter: LinterName, message: string): LintMessage {
  return { linter, ruleId: null, severity: 2, line: 1, column: 1, message, fatal: true };
}

let shared: LintEngine | undefined;

/** Lints one file on a process-wide default engine (for request-reply `lint.file` and tools). */
export function lintFile(task: LintTask): Promise<LintMessage[]> {
  shared ??= new LintEngine();
  return shared.lintFile(task);
}
