/**
 * Toolchain dirs for tests without a registry: packages this project has
 * installed, copied with their dependency closure into a fresh `node_modules`
 * laid out as npm laid them out (so Node resolves each dependency as it does
 * here), an alias renamed (`eslint8` becomes `eslint`). Plus plugin packages a
 * test writes itself.
 */
import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { InstalledToolchain, SandboxFileResult } from "../../shared/toolchain/types.js";
import { ROOT } from "./children.js";

const SOURCE = realpathSync(path.join(ROOT, "node_modules"));

interface Manifest {
  version?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
}

const manifest = (dir: string) => JSON.parse(readFileSync(path.join(dir, "package.json"), "utf8")) as Manifest;

/** Where Node finds `name` from package dir `from`: the node_modules of each dir up to the project's root. */
function resolvePackage(from: string, name: string): string | null {
  const top = path.dirname(SOURCE);
  for (let dir = from; dir.startsWith(top); dir = path.dirname(dir)) {
    const candidate = path.join(dir, "node_modules", name);
    if (path.basename(dir) !== "node_modules" && existsSync(path.join(candidate, "package.json"))) return candidate;
    if (dir === top) break;
  }
  return null;
}

/**
 * `dir`/node_modules with `packages` (installed name → name in the toolchain)
 * and every package they depend on, transitively (peers are the toolchain's own top level); returns the toolchain as the
 * install step would describe it.
 */
export function copyToolchain(dir: string, packages: Record<string, string>, format: "flat" | "eslintrc"): InstalledToolchain {
  const target = path.join(dir, "node_modules");
  mkdirSync(target, { recursive: true });
  const renamed = (rel: string) => {
    const [first, ...rest] = rel.split(path.sep);
    const scoped = first.startsWith("@") ? `${first}/${rest.shift()}` : first;
    return path.join(packages[scoped] ?? scoped, ...rest);
  };
  const copied: string[] = [];
  const seen = new Set<string>();
  const visit = (pkgDir: string) => {
    if (seen.has(pkgDir)) return;
    seen.add(pkgDir);
    // A package nested in one already copied came with it.
    if (!copied.some((c) => pkgDir.startsWith(c + path.sep))) {
      cpSync(pkgDir, path.join(target, renamed(path.relative(SOURCE, pkgDir))), { recursive: true, dereference: true });
      copied.push(pkgDir);
    }
    const m = manifest(pkgDir);
    for (const name of Object.keys({ ...m.dependencies, ...m.optionalDependencies })) {
      const dep = resolvePackage(pkgDir, name);
      if (dep) visit(dep);
    }
  };
  for (const name of Object.keys(packages)) visit(path.join(SOURCE, name));
  const versions = Object.fromEntries(Object.entries(packages).map(([from, as]) => [as, String(manifest(path.join(SOURCE, from)).version)]));
  return { spec: { id: `test-${path.basename(dir)}`, configFile: null, format, packages: versions, notes: [] }, dir, versions };
}

/** Writes a package into the toolchain's node_modules: `files` by path inside the package. */
export function writePackage(toolchainDir: string, name: string, files: Record<string, string>): void {
  const pkg = path.join(toolchainDir, "node_modules", name);
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(pkg, file)), { recursive: true });
    writeFileSync(path.join(pkg, file), text);
  }
}

/** The same files linted by `eslint --format json <paths>` of the toolchain, outside the sandbox, in a copy of `dir` beside the toolchain's node_modules. */
export async function eslintDirectly(toolchain: InstalledToolchain, dir: string, paths: string[]): Promise<SandboxFileResult[]> {
  const direct = `${dir}-direct`;
  cpSync(dir, direct, { recursive: true });
  symlinkSync(path.join(toolchain.dir, "node_modules"), path.join(direct, "node_modules"));
  const bin = path.join(toolchain.dir, "node_modules/eslint/bin/eslint.js");
  const stdout = await new Promise<string>((resolve) => {
    execFile(process.execPath, [bin, "--format", "json", "--", ...paths], { cwd: direct }, (_err, out) => resolve(out));
  });
  type Message = SandboxFileResult["messages"][number];
  const results = JSON.parse(stdout) as { filePath: string; messages: Message[] }[];
  return results
    .filter((r) => !(r.messages.length === 1 && r.messages[0].ruleId === null && r.messages[0].message.startsWith("File ignored")))
    .map((r) => ({
      path: path.relative(direct, r.filePath),
      messages: r.messages.map(({ ruleId, severity, message, line, column, endLine, endColumn, fatal }) => ({
        ruleId,
        severity,
        message,
        line,
        column,
        ...(endLine === undefined ? {} : { endLine, endColumn }),
        ...(fatal ? { fatal } : {}),
      })),
    }));
}
