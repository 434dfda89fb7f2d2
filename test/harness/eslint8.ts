/**
 * ESLint 8.57, the oracle of farm's reading of `.eslintrc*` (the last release
 * that reads them itself), installed as the `eslint8` alias: its class as the
 * tests use it, and both sides of an oracle test's comparison, file by file.
 */
import { createRequire } from "node:module";
import path from "node:path";
import { LintEngine, type LintMessage, type RepoLintPlan } from "../../shared/lint/index.js";

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

/**
 * A message as the oracle tests compare it: position, severity, rule and text; a
 * parse error (ruleId null) by position only, since espree's wording changed
 * between ESLint 8 and 10.
 */
export const messageKey = (m: Message8): string => `${m.line}:${m.column} ${m.severity} ${m.ruleId ?? "(parse)"} ${m.ruleId ? m.message : ""}`;

/** ESLint 8 run as a user runs it in `dir` (`eslint .`, reading `.eslintrc*` and `.eslintignore`): each linted file's messages ({@link messageKey}, sorted) by path relative to `dir`. */
export async function eslint8Messages(dir: string): Promise<Map<string, string[]>> {
  const results = await new ESLint8({ cwd: dir, useEslintrc: true }).lintFiles(["."]);
  return new Map(results.map((r) => [path.relative(dir, r.filePath), r.messages.map(messageKey).sort()]));
}

/**
 * farm's side of the same comparison: its engine on each of `paths` with the
 * config its plan gives the file, read by `read`; messages as {@link messageKey}s,
 * sorted, without those `skip` says ESLint 8 is no oracle for.
 */
export async function farmMessages(
  plan: RepoLintPlan,
  paths: Iterable<string>,
  read: (path: string) => string,
  skip: (m: LintMessage) => boolean = () => false,
): Promise<Map<string, string[]>> {
  const engine = new LintEngine();
  const configs = new Map(plan.files.map((f) => [f.path, f.config]));
  const farm = new Map<string, string[]>();
  for (const file of paths) {
    const config = configs.get(file);
    if (!config) throw new Error(`farm's plan does not lint ${file}`);
    const messages = await engine.lintFile({ path: file, content: read(file), config });
    farm.set(
      file,
      messages
        .filter((m) => !skip(m))
        .map(messageKey)
        .sort(),
    );
  }
  return farm;
}
