/**
 * The flag grammars (cli/options.ts over shared/runtime/parse.ts), read by
 * commander as the command line is: each form each flag takes, and each
 * refusal, a usage error naming the flag, what it takes and what it got. The
 * environment (loadConfig) reads the same grammars.
 */
import { Command } from "commander";
import { describe, expect, test } from "vitest";
import { exitCodeOf } from "../../../cli/context.js";
import { EXIT, UsageError } from "../../../cli/errors.js";
import { count, duration, durationDefault, nonEmpty, parsedOption, port, serviceName, since, withWebFlags } from "../../../cli/options.js";
import { loadConfig } from "../../../shared/runtime/config.js";
import { formatDuration } from "../../../shared/runtime/parse.js";

/** The value commander leaves for `--flag` after reading `args`. */
function read(option: ReturnType<typeof parsedOption>, ...args: string[]): unknown {
  const cmd = new Command().exitOverride().addOption(option);
  cmd.parse(args, { from: "user" });
  return cmd.opts()[option.attributeName()];
}

/** The usage error reading `args` throws. */
function refusal(option: ReturnType<typeof parsedOption>, ...args: string[]): string {
  try {
    read(option, ...args);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    expect(exitCodeOf(err)).toBe(EXIT.usage);
    return (err as Error).message;
  }
  throw new Error(`${args.join(" ")} was not refused`);
}

const HOUR = 3600_000;

describe("counts: --commits, --history, --limit, --seq", () => {
  test.each([
    ["1", 1],
    ["50", 50],
    [" 7 ", 7],
  ])("--commits %j is %d", (value, n) => {
    expect(read(parsedOption("--commits <n>", "", count(1)), "--commits", value)).toBe(n);
  });

  test("--history takes 0", () => {
    expect(read(parsedOption("--history <n>", "", count(0)), "--history", "0")).toBe(0);
  });

  test.each(["zero", "0", "-1", "1.5", "", "1e3", "0x10"])("--commits %j is refused, naming the flag, what it takes and the value", (value) => {
    expect(refusal(parsedOption("--commits <n>", "", count(1)), "--commits", value)).toBe(`--commits must be an integer >= 1, got "${value}"`);
  });

  test("a variadic count collects each value, in order, and refuses a bad one by itself", () => {
    const seq = () => parsedOption("--seq <n...>", "", count(1));
    expect(read(seq(), "--seq", "4", "7", "--seq", "9")).toEqual([4, 7, 9]);
    expect(refusal(seq(), "--seq", "4", "x")).toBe('--seq must be an integer >= 1, got "x"');
  });
});

describe("ports: 0 (any free one) only where the process says which it got", () => {
  const up = () => parsedOption("--port <port>", "", port({ anyFree: false }));
  const web = () => parsedOption("--port <port>", "", port({ anyFree: true }));

  test("farm up's nats port is 1 to 65535", () => {
    expect(read(up(), "--port", "4333")).toBe(4333);
    expect(read(up(), "--port", "65535")).toBe(65535);
    for (const value of ["abc", "0", "65536", "42.5", "-1", ""])
      expect(refusal(up(), "--port", value)).toBe(`--port must be an integer from 1 to 65535, got "${value}"`);
  });

  test("the web app's port may be 0", () => {
    expect(read(web(), "--port", "0")).toBe(0);
    expect(read(web(), "--port", "9000")).toBe(9000);
    expect(refusal(web(), "--port", "65536")).toBe('--port must be an integer from 0 (any free one) to 65535, got "65536"');
  });
});

describe("durations: one grammar for --dlq-window, --in-flight-window, --since, --interval, --timeout", () => {
  const window = () => parsedOption("--dlq-window <duration>", "", duration());

  test.each([
    ["90s", 90_000, "90s"],
    ["10m", 600_000, "10m"],
    ["1.5h", 1.5 * HOUR, "90m"],
    ["1d", 24 * HOUR, "1d"],
    ["500ms", 500, "500ms"],
    [".5h", 0.5 * HOUR, "30m"],
    ["24h", 24 * HOUR, "1d"],
  ])("--dlq-window %s is %d ms, said %s", (value, ms, text) => {
    expect(read(window(), "--dlq-window", value)).toEqual({ ms, text });
  });

  test.each(["0", "0s", "15", "15 m", "m", "1w", "-1h", "1.5.h"])("--dlq-window %j is refused", (value) => {
    expect(refusal(window(), "--dlq-window", value)).toBe(`--dlq-window must be a duration such as 90s, 10m, 1.5h, 1d, got "${value}"`);
  });

  test("--since takes the same durations as --dlq-window, 1.5h included, back from now", () => {
    const before = Date.now();
    const d = read(parsedOption("--since <when>", "", since), "--since", "1.5h") as Date;
    const after = Date.now();
    expect(d.getTime()).toBeGreaterThanOrEqual(before - 1.5 * HOUR);
    expect(d.getTime()).toBeLessThanOrEqual(after - 1.5 * HOUR);
  });

  test("--since takes a date", () => {
    expect(read(parsedOption("--since <when>", "", since), "--since", "2024-05-01T10:00:00Z")).toEqual(new Date("2024-05-01T10:00:00Z"));
  });

  test("--since refuses what is neither", () => {
    expect(refusal(parsedOption("--since <when>", "", since), "--since", "yesterday-ish")).toBe(
      '--since must be a duration such as 90s, 10m, 1.5h, 1d, or a date, got "yesterday-ish"',
    );
  });

  test("--interval and --timeout take bare seconds too, and the duration grammar", () => {
    const interval = () => parsedOption("--interval <duration>", "", duration({ bareSeconds: true, minMs: 500 }));
    expect(read(interval(), "--interval", "2")).toEqual({ ms: 2000, text: "2s" });
    expect(read(interval(), "--interval", "0.5")).toEqual({ ms: 500, text: "500ms" });
    expect(read(interval(), "--interval", "1m")).toEqual({ ms: 60_000, text: "1m" });
    expect(refusal(interval(), "--interval", "0.2")).toBe('--interval must be at least 500ms, got "0.2"');
    expect(refusal(interval(), "--interval", "soon")).toBe('--interval must be seconds or a duration such as 2, 0.5, 90s, 10m, 1.5h, 1d, got "soon"');
    const timeout = () => parsedOption("--timeout <duration>", "", duration({ bareSeconds: true }));
    expect(read(timeout(), "--timeout", "3600")).toEqual({ ms: HOUR, text: "1h" });
    expect(read(timeout(), "--timeout", "10m")).toEqual({ ms: 600_000, text: "10m" });
  });

  test("a default is its parsed value, shown as written", () => {
    expect(durationDefault("15m")).toEqual([{ ms: 900_000, text: "15m" }, "15m"]);
    expect(read(window().default(...durationDefault("15m")))).toEqual({ ms: 900_000, text: "15m" });
  });

  test("formatDuration says a duration in its largest whole unit", () => {
    expect([1000, 90_000, 3 * HOUR, 48 * HOUR, 1500].map(formatDuration)).toEqual(["1s", "90s", "3h", "2d", "1500ms"]);
  });
});

describe("names and addresses: --expect, --host", () => {
  test("--expect takes the services' names, each checked", () => {
    const expect_ = () => parsedOption("--expect <service...>", "", serviceName);
    expect(read(expect_(), "--expect", "web", "ingest")).toEqual(["web", "ingest"]);
    expect(refusal(expect_(), "--expect", "web", "nope")).toBe(
      '--expect must be one of ingest, splitter, linter-runner, aggregator, web, reporter, got "nope"',
    );
  });

  test("--host refuses an empty address", () => {
    expect(read(parsedOption("--host <host>", "", nonEmpty), "--host", "0.0.0.0")).toBe("0.0.0.0");
    expect(refusal(parsedOption("--host <host>", "", nonEmpty), "--host", " ")).toBe('--host must be an address, not empty, got " "');
  });

  test("the web flags beat FARM_WEB_* in the config; unset, the config's stay", () => {
    const config = loadConfig({ FARM_WEB_PORT: "9000", FARM_WEB_HOST: "0.0.0.0" });
    expect(withWebFlags(config, {})).toMatchObject({ webPort: 9000, webHost: "0.0.0.0", webPublic: false });
    expect(withWebFlags(config, { webPort: 0, webHost: "::1", public: true })).toMatchObject({ webPort: 0, webHost: "::1", webPublic: true });
  });
});

describe("the environment reads the same grammars", () => {
  test.each([
    [{ FARM_REPLICAS: "0" }, 'FARM_REPLICAS must be an integer >= 1, got "0"'],
    [{ FARM_CONCURRENCY: "two" }, 'FARM_CONCURRENCY must be an integer >= 1, got "two"'],
    [{ FARM_WEB_PORT: "65536" }, 'FARM_WEB_PORT must be an integer from 0 (any free one) to 65535, got "65536"'],
    [{ FARM_METRICS_PORT: "x" }, 'FARM_METRICS_PORT must be an integer from 0 (any free one) to 65535, got "x"'],
    [{ FARM_COMMIT_STALL_TIMEOUT: "soon" }, 'FARM_COMMIT_STALL_TIMEOUT must be seconds or a duration such as 2, 0.5, 90s, 10m, 1.5h, 1d, got "soon"'],
    [{ FARM_WEB_PUBLIC: "maybe" }, 'FARM_WEB_PUBLIC must be 1, true, yes, on or 0, false, no, off, got "maybe"'],
  ])("%j is refused: %s", (env, message) => {
    expect(() => loadConfig(env)).toThrow(message);
  });

  test("unset or empty, each variable has its default", () => {
    const defaults = { replicas: 1, webPort: 8080, metricsPort: undefined, commitStallSeconds: 1800, webPublic: false, asyncTraces: false, logLevel: "info" };
    expect(loadConfig({})).toMatchObject(defaults);
    const empty = { FARM_REPLICAS: "", FARM_WEB_PORT: "", FARM_METRICS_PORT: "", FARM_COMMIT_STALL_TIMEOUT: "", FARM_WEB_PUBLIC: "", FARM_ASYNC_TRACES: "" };
    expect(loadConfig(empty)).toMatchObject(defaults);
  });

  test("durations, ports 0 and switches as the flags take them", () => {
    const env = { FARM_COMMIT_STALL_TIMEOUT: "30m", FARM_WEB_PORT: "0", FARM_WEB_PUBLIC: "yes", FARM_ASYNC_TRACES: "1", FARM_NATS_SERVER: "/opt/nats-server" };
    expect(loadConfig(env)).toMatchObject({ commitStallSeconds: 1800, webPort: 0, webPublic: true, asyncTraces: true, natsServer: "/opt/nats-server" });
    expect(loadConfig({ FARM_COMMIT_STALL_TIMEOUT: "90" }).commitStallSeconds).toBe(90);
  });

  test("the process's own log level default yields to FARM_LOG_LEVEL", () => {
    expect(loadConfig({}, {}, { logLevel: "warn" }).logLevel).toBe("warn");
    expect(loadConfig({ FARM_LOG_LEVEL: "debug" }, {}, { logLevel: "warn" }).logLevel).toBe("debug");
  });
});
