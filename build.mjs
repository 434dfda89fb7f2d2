/**
 * farm's build (`npm run build`): TypeScript compiled to dist/ by tsc (the
 * library and its types, one .js per .ts), the files that sit beside the code,
 * then the two entry points every start-up loads bundled in place by esbuild:
 *
 *   dist/cli/farm.js           the CLI, its commands as chunks beside it, loaded when run
 *   dist/shared/lint/thread.js a lint thread, with ESLint
 *
 * Node loads one file where it loaded hundreds (resolving, reading and
 * compiling each): a cold `farm analyze` of a small repository takes 0.78× the
 * wall time and 0.72× the CPU it took from tsc's output (docs/benchmarks.md).
 *
 *   node build.mjs [--out DIR] [--fast]
 *
 * --out   where to build (default the project's dist/)
 * --fast  no declarations or source maps, and emit despite type errors: what
 *         the benchmarks build and time
 */
import { spawnSync } from "node:child_process";
import { chmodSync, cpSync, readdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { build } from "esbuild";

/**
 * farm's dependencies that go into the bundles, with what they import: the
 * ones a start-up loads. The others (the toolchain installer, tracing,
 * metrics, the git hosts' clients, typescript-eslint…) load from node_modules
 * when first used, as before.
 */
const BUNDLED = new Set([
  "@nats-io/transport-node",
  "@nats-io/jetstream",
  "@nats-io/kv",
  "@nats-io/obj",
  "commander",
  "pino",
  "msgpackr",
  "lru-cache",
  "ignore",
  "js-tokens",
  "cli-progress",
  "eslint",
  "@eslint/js",
  "globals",
]);

const { values: argv } = parseArgs({ options: { out: { type: "string" }, fast: { type: "boolean" } } });
const out = path.resolve(argv.out ?? path.join(import.meta.dirname, "dist"));
const fast = argv.fast === true;
// The paths below are the project's own.
process.chdir(import.meta.dirname);

const tsc = spawnSync(
  process.execPath,
  ["node_modules/typescript/bin/tsc", "-p", "tsconfig.build.json", "--outDir", out, ...(fast ? ["--declaration", "false", "--sourceMap", "false"] : [])],
  { stdio: "inherit" },
);
if (tsc.status !== 0 && !fast) process.exit(tsc.status ?? 1);

chmodSync(path.join(out, "cli/farm.js"), 0o755);
cpSync("services/web/assets", path.join(out, "services/web/assets"), { recursive: true });
cpSync("shared/toolchain/sandbox-runner.mjs", path.join(out, "shared/toolchain/sandbox-runner.mjs"));

/** A chunk of an earlier build (`[name]-[hash].js`, its map): removed, so that a build holds only its own chunks. */
const CHUNK = /-[A-Z0-9]{8}\.js(\.map)?$/;

/** Bundles entries over themselves; every output file lands in `outdir`, which is what placeInOutdir assumes. */
async function bundle(opts) {
  for (const name of readdirSync(opts.outdir)) if (CHUNK.test(name)) rmSync(path.join(opts.outdir, name));
  await build({
    ...opts,
    allowOverwrite: true,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    chunkNames: "[name]-[hash]",
    // ESLint's optional loader of TypeScript config files (not installed): farm's threads load no config file.
    external: ["jiti"],
    sourcemap: !fast,
    // Less to read and parse at each start (names kept: stack traces and error names stay readable).
    minifyWhitespace: true,
    minifySyntax: true,
    logLevel: "warning",
    // esbuild's require() for the CommonJS it bundles needs a require in scope (ESM output has none).
    banner: {
      js: [
        'import { createRequire as __farmCreateRequire } from "node:module";',
        'import { dirname as __farmDirname } from "node:path";',
        'import { fileURLToPath as __farmFileURLToPath } from "node:url";',
        "const require = __farmCreateRequire(import.meta.url);",
        "const __farmUrl = (rel) => new URL(rel, import.meta.url).href;",
      ].join(" "),
    },
    plugins: [onlyBundled(), placeInOutdir(opts.outdir)],
  });
}

/** farm's own files import the packages in BUNDLED from the bundle, the others from node_modules; a bundled package brings what it imports. */
function onlyBundled() {
  return {
    name: "only-bundled",
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (args) => {
        if (!args.importer.startsWith(out + path.sep) || args.path.startsWith("node:")) return undefined;
        const name = args.path.split("/", args.path.startsWith("@") ? 2 : 1).join("/");
        return BUNDLED.has(name) ? undefined : { path: args.path, external: true };
      });
    },
  };
}

/** A file's start up to its first statement: a #! line, comments, a "use strict" directive. */
const PROLOGUE = /^(?:#![^\n]*\n)?(?:\s+|\/\/[^\n]*\n|\/\*[\s\S]*?\*\/)*(?:(["'])use strict\1;?\n?)?/;

/**
 * A module that finds files beside itself (import.meta.url, __dirname) still
 * finds them from the bundle: each such reference is rewritten to the
 * module's own place, relative to the directory the bundle is written to.
 */
function placeInOutdir(outdir) {
  return {
    name: "place-in-outdir",
    setup(b) {
      b.onLoad({ filter: /\.[cm]?js$/ }, (args) => {
        const text = readFileSync(args.path, "utf8");
        if (!/import\.meta|__dirname|__filename/.test(text)) return undefined;
        let rel = path.relative(outdir, args.path).split(path.sep).join("/");
        if (!rel.startsWith(".")) rel = `./${rel}`;
        const url = `__farmUrl(${JSON.stringify(rel)})`;
        const file = `__farmFileURLToPath(${url})`;
        let contents = text
          .replace(/import\.meta\.url\b/g, url)
          .replace(/import\.meta\.filename\b/g, file)
          .replace(/import\.meta\.dirname\b/g, `__farmDirname(${file})`);
        // CommonJS: the names Node gives each module, given here (the bundle is ESM, where they are not
        // defined), after the file's "use strict" so that it stays strict.
        const declares = (name) => new RegExp(`\\b(?:var|let|const)\\s+${name}\\b`).test(text);
        let names = "";
        if (/\b__filename\b/.test(text) && !declares("__filename")) names += `var __filename = ${file};\n`;
        if (/\b__dirname\b/.test(text) && !declares("__dirname")) names += `var __dirname = __farmDirname(${file});\n`;
        const prologue = PROLOGUE.exec(contents)[0].length;
        contents = contents.slice(0, prologue) + names + contents.slice(prologue);
        return { contents, loader: "js", resolveDir: path.dirname(args.path) };
      });
    },
  };
}

await bundle({ entryPoints: [path.join(out, "cli/farm.js")], outdir: path.join(out, "cli"), splitting: true });
await bundle({ entryPoints: [path.join(out, "shared/lint/thread.js")], outdir: path.join(out, "shared/lint") });
