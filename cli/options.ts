/**
 * Every flag grammar of the command line, attached with commander's
 * `.argParser()`: a value is parsed as the command line is read, and a refusal
 * is a usage error (exit 2) naming the flag, what it takes and what it got.
 * The grammars are the environment's (shared/runtime/parse.ts). Also the
 * options several commands share: the connection's and the web app's.
 */
import { Command, Option } from "commander";
import { ALL_SERVICE_NAMES, isServiceName, type ServiceName } from "../services/registry.js";
import type { FarmConfig } from "../shared/runtime/config.js";
import * as grammar from "../shared/runtime/parse.js";
import { UsageError } from "./errors.js";

/** A grammar of one flag: its value from the text given, or a throw. */
type Grammar<T> = (flag: string, value: string) => T;

/** `flags` parsed by `parse`, each value of a variadic one (`<n...>`) collected in order. */
export function parsedOption<T>(flags: string, description: string, parse: Grammar<T>): Option {
  const option = new Option(flags, description);
  const one = (value: string): T => {
    try {
      return parse(option.long ?? option.name(), value);
    } catch (err) {
      throw err instanceof grammar.InvalidSettingError ? new UsageError(err.message) : err;
    }
  };
  if (!option.variadic) return option.argParser(one);
  return option.argParser((value: string, previous: T[] | undefined) => [...(previous ?? []), one(value)]);
}

// ---- the grammars ----------------------------------------------------------------------

/** An integer of at least `min`: --commits, --history, --limit, --seq. */
export const count =
  (min: number): Grammar<number> =>
  (flag, value) =>
    grammar.parseCount(flag, value, min);

/** A port to listen on; 0 (any free one) only where the process says which it got (see PortRule). */
export const port =
  (rule: grammar.PortRule): Grammar<number> =>
  (flag, value) =>
    grammar.parsePort(flag, value, rule);

/** A duration, and how messages say it (its largest whole unit: 1.5h is "90m"): "in the last 15m". */
export interface Duration {
  ms: number;
  text: string;
}

/** The duration grammar (90s, 10m, 1.5h, 1d): --dlq-window, --in-flight-window; with `bareSeconds`, --interval and --timeout. */
export const duration =
  (rule: grammar.DurationRule = {}): Grammar<Duration> =>
  (flag, value) => {
    const ms = grammar.parseDuration(flag, value, rule);
    return { ms, text: grammar.formatDuration(ms) };
  };

/** A duration's default: its value, and how help shows it. */
export function durationDefault(text: string, rule: grammar.DurationRule = {}): [Duration, string] {
  return [duration(rule)("default", text), text];
}

/** A moment, a duration back from now or a date: --since. */
export const since: Grammar<Date> = (flag, value) => grammar.parseSince(flag, value);

/** Any text but an empty one: --host. */
export const nonEmpty: Grammar<string> = (flag, value) => {
  if (value.trim() === "") throw new grammar.InvalidSettingError(flag, "an address, not empty", value);
  return value;
};

/** The name of one of farm's services: --expect. */
export const serviceName: Grammar<ServiceName> = (flag, value) => {
  if (!isServiceName(value)) throw new grammar.InvalidSettingError(flag, `one of ${ALL_SERVICE_NAMES.join(", ")}`, value);
  return value;
};

// ---- options several commands share ---------------------------------------------------

/** The connection's flags (ConnectionFlags); unset, the environment's: shared/runtime/config.ts reads it. */
export function connectionOptions(cmd: Command): Command {
  return cmd
    .option("--nats <url>", "NATS server url(s), comma-separated (default NATS_URL; without either: the embedded default)")
    .option("--creds <file>", "NATS credentials file (default NATS_CREDS)")
    .option("--user <user>", "NATS user (default NATS_USER)")
    .option("--password <password>", "NATS password (default NATS_PASSWORD)")
    .option("--inbox-prefix <prefix>", "prefix of reply subjects, when the server allows this user only its own (default NATS_INBOX_PREFIX or _INBOX)")
    .option("--log-level <level>", "log level: fatal, error, warn, info, debug (default FARM_LOG_LEVEL)");
}

/** The web app's flags; unset, FARM_WEB_* (in the config). */
export interface WebFlags {
  /** --port (`farm web`), --web-port (`farm up`). */
  webPort?: number;
  /** --host, --web-host. */
  webHost?: string;
  /** --public. */
  public?: boolean;
}

/** Where the web app listens: `--port`/`--host` for `farm web`, `--web-port`/`--web-host` beside `farm up --web`. */
export function webListenOptions(cmd: Command, prefix: "--" | "--web-"): Command {
  return cmd
    .addOption(parsedOption(`${prefix}port <port>`, "the web app's port, 0 for any free one (default FARM_WEB_PORT or 8080)", port({ anyFree: true })))
    .addOption(
      parsedOption(
        `${prefix}host <host>`,
        "the web app's address (default FARM_WEB_HOST or 127.0.0.1); beyond loopback the pages need FARM_WEB_TOKEN",
        nonEmpty,
      ),
    );
}

/** The config with the web flags over it: flags beat FARM_WEB_* (already in the config). */
export function withWebFlags(config: FarmConfig, flags: WebFlags): FarmConfig {
  return {
    ...config,
    webPort: flags.webPort ?? config.webPort,
    webHost: flags.webHost ?? config.webHost,
    webPublic: flags.public || config.webPublic,
  };
}
