/**
 * ESLint 8.57, the oracle of farm's reading of `.eslintrc*` (the last release
 * that reads them itself), installed as the `eslint8` alias: its class as the
 * tests use it.
 */
import { createRequire } from "node:module";

/** A message as ESLint 8 reports it. */
export interface Message8 {
  ruleId: string | null;
  severity: number;
  line: number;
  column: number;
  message: string;
}

interface ESLint8Class {
  new (options: { cwd: string; useEslintrc: boolean }): { lintFiles(patterns: string[]): Promise<{ filePath: string; messages: Message8[] }[]> };
}

export const { ESLint: ESLint8 } = createRequire(import.meta.url)("eslint8") as { ESLint: ESLint8Class };
