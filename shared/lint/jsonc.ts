/**
 * JSON with comments, as `.jshintrc` files are written (JSHint's CLI strips
 * comments before JSON.parse). Trailing commas stay invalid, as in JSHint.
 */
import { RepoConfigError } from "./errors.js";

/** Replaces `//` and `/* *\/` comments outside strings with spaces, keeping line/column positions. */
export function stripJsonComments(text: string): string {
  let out = "";
  let i = 0;
  const n = text.length;
  while (i < n) {
    const ch = text[i];
    if (ch === '"') {
      // Copy a string literal verbatim, honouring escapes.
      const start = i++;
      while (i < n && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
      i++;
      out += text.slice(start, i);
    } else if (ch === "/" && text[i + 1] === "/") {
      while (i < n && text[i] !== "\n") {
        out += " ";
        i++;
      }
    } else if (ch === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      const stop = end === -1 ? n : end + 2;
      // Keep newlines so JSON.parse error positions still point at the right line.
      out += text.slice(i, stop).replace(/[^\n]/g, " ");
      i = stop;
    } else {
      out += ch;
      i++;
    }
  }
  return out;
}

/** Parses JSON (optionally with comments); any failure is a RepoConfigError naming the file. */
export function parseRepoJson(text: string, file: string, { comments = false } = {}): unknown {
  // A UTF-8 BOM is common in files saved by Windows editors; JSON.parse rejects it.
  const body = text.replace(/^\uFEFF/, "");
  try {
    return JSON.parse(comments ? stripJsonComments(body) : body);
  } catch (err) {
    throw new RepoConfigError(`invalid JSON: ${(err as Error).message}`, file, { cause: err });
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
