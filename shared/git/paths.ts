/**
 * Paths in git are bytes, not text. farm names a file by a string: the path
 * itself when its bytes are valid UTF-8, git's C-quoted form otherwise
 * (`"\377.js"`, quotes included, what `core.quotePath` prints). A valid name
 * that itself starts with `"` is quoted too, so the mapping stays one-to-one:
 * two different byte strings never get the same name.
 */

const utf8 = new TextDecoder("utf-8", { fatal: true });

// git's quote_c_style: these get a letter, other control bytes, DEL and every byte ≥ 0x80 get \ooo.
const LETTER: Record<number, string> = { 7: "a", 8: "b", 9: "t", 10: "n", 11: "v", 12: "f", 13: "r", 34: '"', 92: "\\" };
const UNLETTER: Record<string, number> = Object.fromEntries(Object.entries(LETTER).map(([b, c]) => [c, Number(b)]));

/** The name farm shows and stores for a path's bytes (see the module comment). */
export function displayPath(bytes: Uint8Array): string {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    // Not UTF-8: git's quoted form keeps distinct names distinct.
    return quotePath(bytes);
  }
  return text.startsWith('"') ? quotePath(bytes) : text;
}

/** git's C-quoted form of any bytes, quotes included. */
export function quotePath(bytes: Uint8Array): string {
  let out = '"';
  let run = 0; // start of the current run of plain bytes
  const flush = (end: number) => {
    if (end > run) out += Buffer.from(bytes.subarray(run, end)).toString("latin1");
  };
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b >= 0x20 && b < 0x7f && b !== 34 && b !== 92) continue;
    flush(i);
    run = i + 1;
    out += LETTER[b] !== undefined ? `\\${LETTER[b]}` : `\\${b.toString(8).padStart(3, "0")}`;
  }
  flush(bytes.length);
  return `${out}"`;
}

/** Whether a displayed name is a quoted one. */
export function isQuotedPath(name: string): boolean {
  return name.length >= 2 && name.startsWith('"') && name.endsWith('"');
}

/** The bytes a displayed name stands for: displayPath's inverse. */
export function pathBytes(name: string): Buffer {
  if (!isQuotedPath(name)) return Buffer.from(name, "utf8");
  const out: number[] = [];
  for (let i = 1; i < name.length - 1; i++) {
    const c = name[i];
    if (c !== "\\") {
      out.push(...Buffer.from(c, "utf8"));
      continue;
    }
    const next = name[++i];
    if (/[0-7]/.test(next)) {
      out.push(Number.parseInt(name.slice(i, i + 3), 8));
      i += 2;
    } else {
      out.push(UNLETTER[next] ?? next.charCodeAt(0));
    }
  }
  return Buffer.from(out);
}

/**
 * The name as text for matching by extension or glob (`"\377.js"` → `\ufffd.js`):
 * lossy, so for matching only, never as an identity.
 */
export function matchablePath(name: string): string {
  return isQuotedPath(name) ? pathBytes(name).toString("utf8") : name;
}
