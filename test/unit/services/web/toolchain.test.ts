/** The commit page's "Toolchain" card: what the commit was linted with, every repository string escaped. */
import { describe, expect, it } from "vitest";
import { toolchainSection } from "../../../../services/web/pages/toolchain.js";
import type { ReportToolchain } from "../../../../shared/pipeline/report.js";

const toolchain: ReportToolchain = {
  id: "1a2b3c4d".repeat(8),
  configFile: "eslint.config.mjs",
  format: "flat",
  eslint: "9.12.0",
  packages: { eslint: "9.12.0", "eslint-plugin-n": "17.10.3", "@eslint/markdown": "6.2.1" },
};
const linters = { eslint: "10.15.0", "typescript-eslint": "8.74.0" };

/** The card's text, tags dropped and entities read back, spaces collapsed. */
function text(markup: string): string {
  const decoded = markup
    .replace(/<[^>]*>/g, " ")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&#96;/g, "`")
    .replace(/&amp;/g, "&");
  return decoded.replace(/\s+/g, " ").trim();
}

describe("the Toolchain card", () => {
  it("names the repository's own ESLint, its config file and format, each other package with its version, and the id", () => {
    const card = toolchainSection({ toolchain, linters }).value;
    expect(text(card)).toBe(
      `Toolchain Linted with the repository's own ESLint 9.12.0 , config eslint.config.mjs (flat config). ` +
        `eslint-plugin-n 17.10.3 @eslint/markdown 6.2.1 id ${toolchain.id} : commits with the same id ran the same packages.`,
    );
    expect(card.match(/<li>/g)).toHaveLength(2);
  });

  it("leaves out what the toolchain does not say: no config file, no format, no other package", () => {
    const card = toolchainSection({ toolchain: { ...toolchain, configFile: null, format: null, packages: { eslint: "9.12.0" } }, linters }).value;
    expect(text(card)).toContain("own ESLint 9.12.0 .");
    expect(card).not.toContain("<ul");
    expect(card).not.toContain("config");
  });

  it("escapes every string a hostile repository supplies", () => {
    const hostile: ReportToolchain = {
      id: `"><script>alert(1)</script>`,
      configFile: "<b>eslint.config.mjs</b>",
      format: "flat",
      eslint: "9.12.0<iframe>",
      packages: { "<img src=x>": "1.0.0'\"`", "ok-plugin": "<svg onload=alert(1)>" },
    };
    const card = toolchainSection({ toolchain: hostile, linters }).value;
    expect(card).not.toMatch(/<(img|script|b|iframe|svg)\b/);
    expect(card).toContain("&lt;img src=x&gt;");
    expect(card).toContain("1.0.0&#39;&quot;&#96;");
    expect(card).toContain("&quot;&gt;&lt;script&gt;");
    // Escaped, not dropped: the reader still sees what the repository said.
    expect(text(card)).toContain("<img src=x> 1.0.0'\"`");
  });

  it("without a toolchain: the config was read as data by farm's bundled ESLint, at its version", () => {
    expect(text(toolchainSection({ linters }).value)).toBe("Toolchain None of its own: the config was read as data by farm's bundled ESLint 10.15.0.");
    expect(text(toolchainSection({ linters: { jshint: "2.13.6" } }).value)).toBe(
      "Toolchain None of its own: the config was read as data by farm's bundled ESLint.",
    );
  });
});
