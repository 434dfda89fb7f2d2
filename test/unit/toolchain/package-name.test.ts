import { describe, expect, it } from "vitest";
import { classifySpecifier, eslintPackageName, exactVersion, registrySpec } from "../../../shared/toolchain/package-name.js";

describe("package names as configs write them", () => {
  it.each([
    ["@eslint/js", "@eslint/js"],
    ["@scope/name/sub/path.js", "@scope/name"],
    ["eslint/config", "eslint"],
    ["eslint-plugin-n/configs/recommended", "eslint-plugin-n"],
  ])("reduces the specifier %s to the package %s", (spec, name) => {
    expect(classifySpecifier(spec)).toEqual({ kind: "package", name });
  });

  it("drops builtins and tells relative paths from what it does not follow", () => {
    expect(classifySpecifier("node:path")).toEqual({ kind: "builtin" });
    expect(classifySpecifier("fs/promises")).toEqual({ kind: "builtin" });
    expect(classifySpecifier("../x.js")).toEqual({ kind: "relative", path: "../x.js" });
    for (const s of ["/etc/passwd", "#internal", "https://example.invalid/x.js", "data:text/javascript,1", "@scope", "a b"]) {
      expect(classifySpecifier(s).kind).toBe("unsupported");
    }
  });

  it.each([
    ["standard", "eslint-config", "eslint-config-standard"],
    ["eslint-config-standard", "eslint-config", "eslint-config-standard"],
    ["@scope", "eslint-config", "@scope/eslint-config"],
    ["@scope/eslint-config", "eslint-config", "@scope/eslint-config"],
    ["@scope/x", "eslint-config", "@scope/eslint-config-x"],
    ["n", "eslint-plugin", "eslint-plugin-n"],
    ["@typescript-eslint", "eslint-plugin", "@typescript-eslint/eslint-plugin"],
    ["@scope/x", "eslint-plugin", "@scope/eslint-plugin-x"],
    ["@scope/eslint-plugin-x", "eslint-plugin", "@scope/eslint-plugin-x"],
  ] as const)("names %s (%s) %s, as ESLint 8 does", (name, prefix, expected) => {
    expect(eslintPackageName(name, prefix)).toBe(expected);
  });

  it("tells exact versions from ranges and tags", () => {
    expect(exactVersion("8.47.0")).toBe("8.47.0");
    expect(exactVersion("=v1.2.3-rc.1")).toBe("1.2.3-rc.1");
    for (const s of ["^8.0.0", "~1.2.3", ">=1", "1.2", "latest", "*", "1.2.3 - 2.0.0"]) expect(exactVersion(s)).toBeNull();
  });

  it("keeps registry specs and refuses URLs, paths and aliases of other packages", () => {
    expect(registrySpec("eslint", "^8")).toEqual({ spec: "^8" });
    expect(registrySpec("eslint", "npm:eslint@8.57.0")).toEqual({ spec: "8.57.0" });
    expect(registrySpec("eslint", "")).toEqual({ spec: "*" });
    for (const s of ["npm:other@1.0.0", "file:../eslint", "github:eslint/eslint", "eslint/eslint#main", "https://x.invalid/e.tgz"]) {
      expect(registrySpec("eslint", s)).toHaveProperty("why");
    }
  });
});
