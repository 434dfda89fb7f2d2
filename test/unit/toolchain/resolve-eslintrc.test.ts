import { describe, expect, it } from "vitest";
import { resolveToolchain } from "../../../shared/toolchain/resolve.js";
import { memoryTree } from "../../harness/commit-tree.js";

const pkg = (devDependencies: Record<string, string>, extra: object = {}) => JSON.stringify({ name: "x", ...extra, devDependencies });

describe("resolveToolchain on an eslintrc config", () => {
  it("reads an express-like .eslintrc.yml with eslint pinned in package.json", async () => {
    const spec = await resolveToolchain(
      memoryTree({
        "package.json": pkg({ eslint: "8.47.0", mocha: "10.2.0" }),
        ".eslintrc.yml": "root: true\nenv:\n  es2022: true\n  node: true\nrules:\n  eol-last: error\n",
        "test/.eslintrc.yml": "env:\n  mocha: true\n",
      }),
    );
    expect(spec).toMatchObject({ configFile: ".eslintrc.yml", format: "eslintrc", packages: { eslint: "8.47.0" } });
    expect(spec.before).toBeUndefined();
  });

  it("names the shareable configs, plugins and parser of extends/plugins/parser", async () => {
    const spec = await resolveToolchain(
      memoryTree({
        "package.json": pkg({
          eslint: "^8.50.0",
          "eslint-config-semistandard": "^17.0.0",
          "eslint-plugin-n": "^16.0.0",
          "@typescript-eslint/parser": "^6.0.0",
          "@typescript-eslint/eslint-plugin": "^6.0.0",
        }),
        ".eslintrc.json": JSON.stringify({
          extends: ["semistandard", "plugin:n/recommended", "eslint:recommended"],
          plugins: ["n"],
          parser: "@typescript-eslint/parser",
          overrides: [{ files: ["*.ts"], extends: ["plugin:@typescript-eslint/recommended"] }],
        }),
      }),
      {},
    );
    expect(spec.packages).toEqual({
      eslint: "^8.50.0",
      "eslint-config-semistandard": "^17.0.0",
      "eslint-plugin-n": "^16.0.0",
      "@typescript-eslint/parser": "^6.0.0",
      "@typescript-eslint/eslint-plugin": "^6.0.0",
    });
    expect(spec.before).toBe("2024-05-01T10:00:00.000Z");
    expect(spec.notes.join("\n")).toMatch(/peer dependencies of "semistandard" are not listed/);
  });

  it("reads package.json's eslintConfig when no other config is at the root", async () => {
    const spec = await resolveToolchain(
      memoryTree({
        "package.json": pkg(
          { eslint: "7.32.0", "eslint-config-airbnb-base": "15.0.0", "@foo/eslint-config": "1.0.0" },
          {
            eslintConfig: { extends: ["airbnb-base/legacy", "@foo"] },
          },
        ),
      }),
    );
    expect(spec).toMatchObject({ configFile: "package.json", format: "eslintrc" });
    expect(spec.packages).toEqual({ eslint: "7.32.0", "eslint-config-airbnb-base": "15.0.0", "@foo/eslint-config": "1.0.0" });
  });

  it("reads a JavaScript eslintrc's imports and the literal parts of its exported object, without running it", async () => {
    const spec = await resolveToolchain(
      memoryTree({
        "package.json": pkg({ eslint: "8.57.0", "eslint-plugin-react": "7.33.0", "eslint-config-prettier": "9.0.0", "@babel/eslint-parser": "7.22.0" }),
        ".eslintrc.js": `process.exit(1);\nmodule.exports = {\n  parser: require.resolve("@babel/eslint-parser"),\n  extends: ["prettier"],\n  plugins: ["react"],\n  rules: { quotes: process.env.CI ? 2 : 0 },\n};\n`,
      }),
    );
    expect(spec.packages).toEqual({ eslint: "8.57.0", "eslint-plugin-react": "7.33.0", "eslint-config-prettier": "9.0.0", "@babel/eslint-parser": "7.22.0" });
    expect(spec.notes).toContain(".eslintrc.js: only the literal parts of its exported object are read");
  });

  it("follows a relative extends to a data file of the tree", async () => {
    const spec = await resolveToolchain(
      memoryTree({
        "package.json": pkg({ eslint: "8.57.0", "eslint-plugin-import": "2.29.0" }),
        ".eslintrc.yml": "extends: ./config/eslint-base.yml\n",
        "config/eslint-base.yml": "plugins: [import]\n",
      }),
    );
    expect(spec.packages).toEqual({ eslint: "8.57.0", "eslint-plugin-import": "2.29.0" });
  });

  it("takes the newest ESLint before 9 at the commit's date when an eslintrc repository does not list eslint", async () => {
    const spec = await resolveToolchain(memoryTree({ "package.json": pkg({}), ".eslintrc": '{ "rules": {} }' }, "2019-03-01T00:00:00Z"));
    expect(spec.packages).toEqual({ eslint: "<9" });
    expect(spec.before).toBe("2019-03-01T00:00:00.000Z");
    expect(spec.notes.join("\n")).toMatch(/eslint is not in package.json/);
  });
});
