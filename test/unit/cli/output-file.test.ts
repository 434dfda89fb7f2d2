/**
 * The rule for a path a user names for output: a regular file (or a new one) is
 * replaced only once complete, anything else is written in place, a link is
 * followed and never replaced itself.
 */
import { execFileSync } from "node:child_process";
import { createReadStream, lstatSync, mkdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync, chmodSync } from "node:fs";
import { text } from "node:stream/consumers";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { outputTarget, writeOutput, writeOutputFile } from "../../../cli/output-file.js";
import { useTempDir } from "../../harness/files.js";

const tmp = useTempDir("farm-outfile-");

describe("outputTarget", () => {
  test("a new path and a regular file are replaced; - is standard output", async () => {
    const file = path.join(tmp, "plain.json");
    expect(await outputTarget(file)).toEqual({ kind: "replace", path: file, mode: undefined });
    writeFileSync(file, "old");
    chmodSync(file, 0o640);
    expect(await outputTarget(file)).toEqual({ kind: "replace", path: file, mode: 0o640 });
    expect(await outputTarget("-")).toEqual({ kind: "stdout" });
  });

  test("the machine's /dev/null is written in place (decided without writing to it)", async () => {
    expect(await outputTarget("/dev/null")).toEqual({ kind: "in-place", path: "/dev/null" });
  });

  test("a link is replaced at its target, a dangling link too; a directory is refused", async () => {
    const dir = path.join(tmp, "links");
    mkdirSync(path.join(dir, "real"), { recursive: true });
    symlinkSync("real/report.json", path.join(dir, "dangling"));
    symlinkSync("dangling", path.join(dir, "chain"));
    expect(await outputTarget(path.join(dir, "chain"))).toMatchObject({ kind: "replace", path: path.join(dir, "real/report.json") });
    await expect(outputTarget(path.join(dir, "real"))).rejects.toThrow(/is a directory/);
    symlinkSync("loop-b", path.join(dir, "loop-a"));
    symlinkSync("loop-a", path.join(dir, "loop-b"));
    await expect(outputTarget(path.join(dir, "loop-a"))).rejects.toThrow(/too many levels of symbolic links|ELOOP/);
  });
});

describe("writeOutput", () => {
  test("a FIFO is written in place while its reader reads", async () => {
    const fifo = path.join(tmp, "out.fifo");
    execFileSync("mkfifo", [fifo]);
    const read = text(createReadStream(fifo));
    await writeOutputFile(fifo, "through the pipe\n");
    expect(await read).toBe("through the pipe\n");
    expect(lstatSync(fifo).isFIFO()).toBe(true);
  });

  test("a write that fails leaves the old file whole and no partial beside it", async () => {
    const file = path.join(tmp, "kept.json");
    writeFileSync(file, "old\n");
    const failing = writeOutput(file, async (out) => {
      out.write("half");
      throw new Error("the analysis failed");
    });
    await expect(failing).rejects.toThrow(/the analysis failed/);
    expect(readFileSync(file, "utf8")).toBe("old\n");
    expect(execFileSync("ls", [tmp], { encoding: "utf8" })).not.toMatch(/partial/);
  });

  test("through a link: the link stays a link, its target gets the output and keeps its mode", async () => {
    const target = path.join(tmp, "target.json");
    writeFileSync(target, "old\n");
    chmodSync(target, 0o600);
    const link = path.join(tmp, "link.json");
    symlinkSync(target, link);
    await writeOutputFile(link, "new\n");
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe(target);
    expect(readFileSync(target, "utf8")).toBe("new\n");
    expect(statSync(target).mode & 0o777).toBe(0o600);
  });
});
