/** The package's entry: the farm library (shared/fabric/), usable without the lint pipeline. */
export * from "./fabric/index.js";
