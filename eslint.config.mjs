// farm's own code passes its own lint: ESLint's and typescript-eslint's recommended rules, type-aware
// for the product (shared/, services/, cli/); tests get the type-aware rules that catch real bugs
// (a promise nobody awaits) without the no-unsafe-* family, which JSON-parsing assertions trip by design.
import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

const product = ["shared/**/*.ts", "services/**/*.ts", "cli/**/*.ts"];

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", ".farm/", "test/**/fixtures/", "coverage/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  { languageOptions: { globals: { ...globals.node } } },
  {
    files: ["**/*.ts"],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
  },
  ...tseslint.configs.recommendedTypeCheckedOnly.map((c) => ({ ...c, files: product })),
  {
    files: ["test/**/*.ts"],
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/await-thenable": "error",
    },
  },
  {
    // Farm's error codes are typed sets, one per layer: name them through their tables.
    files: product,
    ignores: ["shared/fabric/errors.ts", "shared/pipeline/errors.ts", "cli/errors.ts"],
    rules: {
      "no-restricted-syntax": [
        "error",
        { selector: "Literal[value=/^E_[A-Z_]+$/]", message: "Use a code table (ErrorCodes, PipelineErrorCodes, CliErrorCodes), not a bare error code." },
      ],
    },
  },
);
