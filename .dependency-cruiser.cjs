/**
 * The import rules CI holds the tree to (`npm run lint:deps`): no import cycle
 * (type-only imports included), and the library (shared/fabric) imports
 * nothing of the repository outside itself, so that it is usable without the pipeline.
 */
module.exports = {
  forbidden: [
    {
      name: "no-cycle",
      comment: "An import cycle: break it by moving what both sides need into a module of its own.",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    {
      name: "library-imports-only-library",
      comment: "shared/fabric is the library: it must not depend on the pipeline, git, lint, the runtime, services or the CLI.",
      severity: "error",
      from: { path: "^shared/fabric/" },
      to: { path: "^(shared/(?!fabric/)|services/|cli/|test/)" },
    },
    {
      name: "product-imports-no-test",
      comment: "Product code never imports test code.",
      severity: "error",
      from: { path: "^(shared|services|cli)/" },
      to: { path: "^test/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(node_modules|dist)/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { extensions: [".ts", ".js", ".mjs"] },
  },
};
