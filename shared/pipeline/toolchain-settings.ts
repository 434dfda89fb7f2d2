/**
 * How a file linted with its commit's own toolchain is keyed and configured
 * (issue 25). The splitter stores one `ToolchainSettings` per (toolchain,
 * config inputs, rules not run); a file's config id adds its effective config
 * as that toolchain computes it and its path, so a cached result is reused
 * only where every input of the lint is the same.
 */
import { createHash } from "node:crypto";
import type { ToolchainSpec } from "../toolchain/types.js";
import { RESULT_FORMAT } from "./report.js";

/** A file the sandbox writes with this content before ESLint loads its config. */
export interface ToolchainInput {
  path: string;
  /** sha256 (hex) of `text`: what the key is made of. */
  hash: string;
  text: string;
}

/** Everything but the file itself that a toolchain lint of a commit's file depends on. */
export interface ToolchainSettings {
  kind: "toolchain";
  spec: ToolchainSpec;
  /** The config inputs, as the sandbox sees them (package.json files reduced to the fields rules read). */
  inputs: ToolchainInput[];
  /** Rules turned off because their result depends on more than the file (sorted). */
  notRun: string[];
}

/** A toolchain config id: `t<settings id>-<file key>`; data-only config ids never start with "t" (they are hex). */
const TOOLCHAIN_ID = /^t([0-9a-f]{32})-[0-9a-f]{32}$/;

function sha(parts: readonly string[]): string {
  const h = createHash("sha256");
  for (const p of parts) h.update(p).update("\0");
  return h.digest("hex").slice(0, 32);
}

/** The id of `s`: its toolchain, its inputs' hashes and what it does not run. */
export function settingsId(s: Omit<ToolchainSettings, "kind">): string {
  return sha([`r${RESULT_FORMAT}`, s.spec.id, ...s.inputs.map((i) => `${i.path}:${i.hash}`), "--", ...s.notRun]);
}

/** A file's config id: its settings, its effective config (the sandbox's hash) and its path (rules may read a file's name). */
export function toolchainConfigId(settings: string, configHash: string, path: string): string {
  return `t${settings}-${sha([configHash, path])}`;
}

/** The settings id of a toolchain config id, or null for a data-only config id. */
export function settingsOf(configId: string): string | null {
  return TOOLCHAIN_ID.exec(configId)?.[1] ?? null;
}

export function isToolchainSettings(x: unknown): x is ToolchainSettings {
  return typeof x === "object" && x !== null && (x as ToolchainSettings).kind === "toolchain";
}
