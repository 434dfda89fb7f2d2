/**
 * A toolchain's identity: the sha256 of the canonical JSON of its packages
 * and `before` (keys sorted at every level), first 32 hex digits. Notes and
 * the config file are not part of it: two commits that install the same
 * packages share one install.
 */
import { createHash } from "node:crypto";

const ID_HEX = 32;

/** JSON with the keys of every object sorted, so equal data has one text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** The id of the toolchain that installs `packages` (resolved as of `before`, when set). */
export function toolchainId(packages: Readonly<Record<string, string>>, before?: string): string {
  return createHash("sha256").update(canonicalJson({ packages, before })).digest("hex").slice(0, ID_HEX);
}
