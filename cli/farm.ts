#!/usr/bin/env node
/** farm: the command line. Every service's container entrypoint too (`farm service <name>`). */
import { Command, CommanderError, Option } from "commander";
import { connectionOptions, count, duration, durationDefault, parsedOption, port, serviceName, since, webListenOptions } from "./options.js";
import { isOutputClosed, whenStdoutClosed } from "./output.js";
import { FARM_VERSION } from "../shared/fabric/version.js";
import { commandConfig } from "./config.js";
import { prestartLintThread, UP_OPEN, type WhereServicesRun } from "./prestart.js";

/**
 * A command's module, loaded when the command runs: `farm --help` and each
 * command load only what they use (the embedded default's services, the web
 * app, the installer are loaded by the commands that start them).
 */
function lazy<M, K extends keyof M>(load: () => Promise<M>, name: K): (...args: unknown[]) => Promise<void> {
  return async (...args) => {
    await ((await load())[name] as (...a: unknown[]) => unknown)(...args);
  };
}

/**
 * The action of a command that opens the cluster as `open` says: when that will
 * run the services here, their first lint thread starts before the command's
 * modules load (cli/prestart.ts).
 */
function opening<M, K extends keyof M>(open: WhereServicesRun, load: () => Promise<M>, name: K): (...args: unknown[]) => Promise<void> {
  const run = lazy(load, name);
  return async (...args) => {
    prestartLintThread(commandConfig((args.at(-1) as Command).opts()), open);
    await run(...args);
  };
}

function examples(cmd: Command, lines: string[]): Command {
  return cmd.addHelpText("after", `\nExamples:\n${lines.map((l) => `  $ ${l}`).join("\n")}\n`);
}

/** Each snapshot waits half a second for presence answers: a shorter interval would only stack them. */
const INTERVAL = { bareSeconds: true, minMs: 500 };

export function buildProgram(): Command {
  const program = new Command("farm")
    .description("Analyze every commit of git repositories on NATS JetStream: lint results, new and fixed issues, trends.")
    .version(FARM_VERSION)
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();

  examples(
    connectionOptions(
      program
        .command("analyze")
        .description("analyze a commit and its first-parent ancestors, then print the reports")
        .argument("<repo>", "a local repository path or a clone url")
        .option(
          "--sha <rev>",
          "commit to analyze: for a local repository any revision (HEAD, a branch, a tag, a short sha); for a url the full id (default: HEAD)",
        )
        .addOption(parsedOption("--commits <n>", "how many commits: the sha and n-1 first-parent ancestors", count(1)).default(1))
        .addOption(
          new Option(
            "--format <format>",
            "output: table (one commit: its issues under the table), json, ndjson (one report per line), sarif (the requested commit against its parent)",
          )
            .choices(["table", "json", "ndjson", "sarif"])
            .default("table"),
        )
        .option("--summary", "json, ndjson: per commit only the summary and the delta (new and fixed issues), no files")
        .option("--details", "table of a history: print each commit's new issues (file, line:col, severity, message, rule) under the table")
        .option("--sarif-dir <dir>", "also write one SARIF file per analyzed commit, <dir>/<sha>.sarif (code-scanning uploads of a history)")
        .option("--out <file>", "write the output to this file (replaced only once complete; a device or FIFO is written in place; - is stdout)")
        .addOption(
          new Option("--fail-on <level>", "exit 1, saying how many issues in which commits, when a printed commit has issues at or above this level").choices([
            "error",
            "warning",
          ]),
        )
        .addOption(
          parsedOption(
            "--timeout <duration>",
            "give up waiting after this long: seconds or a duration (90s, 10m, 1.5h, 1d)",
            duration({ bareSeconds: true }),
          ).default(...durationDefault("3600", { bareSeconds: true })),
        )
        .option("--web", "serve the web app (FARM_WEB_PORT, default 8080) during the analysis and after it until Ctrl-C; prints its url"),
    ),
    [
      "farm analyze . --commits 50",
      "farm analyze . --commits 50 --details",
      "farm analyze . --sha v1.2.0 --fail-on error",
      "farm analyze . --commits 1000 --format ndjson --summary > history.ndjson",
      "farm analyze https://github.com/expressjs/express.git --commits 200 --format json --out express.json",
      "NATS_URL=nats://cluster:4222 farm analyze /srv/repo --sha 0a1b2c...  --format sarif --sarif-dir sarif/",
    ],
  ).action(opening({}, () => import("./commands/analyze.js"), "analyzeCommand"));

  examples(
    connectionOptions(
      webListenOptions(
        program
          .command("up")
          .description("run the whole cluster locally until Ctrl-C / SIGTERM; other commands on this data dir find it")
          .addOption(parsedOption("--port <port>", "client port of the embedded nats-server, 1 to 65535", port({ anyFree: false })).default(4222))
          .option("--web", "serve the web app too; the ready line carries its url")
          .option("--reporter", "post check runs to GitHub for analysed pushes too (FARM_GITHUB_TOKEN or FARM_GITHUB_APP_ID and FARM_GITHUB_APP_KEY_FILE)"),
        "--web-",
      ),
    ),
    [
      "farm up",
      "farm up --port 4333",
      "farm up --web",
      "FARM_GITHUB_TOKEN=… FARM_WEBHOOK_SECRET=… farm up --web --reporter",
      "farm up --nats nats://127.0.0.1:4222",
      "FARM_METRICS_PORT=9464 farm up   # Prometheus metrics of all services on :9464/metrics",
    ],
  ).action(opening(UP_OPEN, () => import("./commands/up.js"), "upCommand"));

  examples(
    connectionOptions(
      program
        .command("service")
        .description("run one service (the container entrypoint)")
        .argument("<name>", "ingest | splitter | linter-runner | aggregator | web"),
    ),
    [
      "NATS_URL=nats://nats:4222 farm service linter-runner",
      "FARM_METRICS_PORT=9464 FARM_METRICS_HOST=0.0.0.0 farm service aggregator   # its Prometheus metrics on :9464/metrics",
      "OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4318 farm service ingest      # traces to an OpenTelemetry collector",
    ],
  ).action(lazy(() => import("./commands/service.js"), "serviceCommand"));

  examples(
    connectionOptions(
      webListenOptions(
        program.command("web").description("serve the web app: history charts, commits, files with their issues, live analyses, operations, webhooks"),
        "--",
      ).option("--public", "open the read-only pages to all wherever bound (FARM_WEB_PUBLIC=1); operator actions still need the token"),
    ),
    ["farm web", "farm web --port 9000", "FARM_WEB_TOKEN=s3cret farm web --host 0.0.0.0", "NATS_URL=nats://cluster:4222 farm web --host 0.0.0.0 --public"],
  ).action(opening({}, () => import("./commands/web.js"), "webCommand"));

  examples(
    connectionOptions(
      program
        .command("publish")
        .description("publish repo.new_sha: ask the cluster to analyze a commit")
        .argument("<repo>", "clone url or path as the cluster's ingest sees it")
        .argument("<sha>", "full commit sha")
        .addOption(parsedOption("--history <n>", "first-parent ancestors to analyze too", count(0)).default(0))
        .option("--ref <ref>", "the branch (refs/heads/main) the commit is the head of: farm keeps each branch's newest analysed commit"),
    ),
    ["farm publish https://github.com/expressjs/express.git 4f3e1c... --history 20"],
  ).action(lazy(() => import("./commands/publish.js"), "publishCommand"));

  examples(
    connectionOptions(
      program
        .command("report")
        .description("fetch a commit's report")
        .argument("<repo>", "a local repository path, or the clone url or path as the cluster's ingest saw it")
        .argument("<sha>", "the commit: for a local repository any revision (HEAD, a branch, a tag, a short sha), else the full id")
        .addOption(
          new Option("--format <format>", "output: table (with the commit's issues under it), json, sarif")
            .choices(["table", "json", "sarif"])
            .default("table"),
        )
        .option("--json", "same as --format json"),
    ),
    ["farm report . HEAD", "farm report /srv/repo 4f3e1c... --format sarif > out.sarif"],
  ).action(lazy(() => import("./commands/report.js"), "reportCommand"));

  examples(
    connectionOptions(
      program
        .command("history")
        .description("the trend of a repository's analysed first-parent history, newest first (a sparkline of errors on a terminal)")
        .argument("<repo>", "a local repository path, or the clone url or path as the cluster's ingest saw it")
        .addOption(parsedOption("--limit <n>", "commits to show", count(1)).default(30))
        .option("--branch <name>", "start at the newest analysed commit of this branch (as requests with --ref named it)")
        .option("--json", "print the history.commits pages as JSON"),
    ),
    ["farm history .", "farm history https://github.com/expressjs/express.git --limit 200 --json", "farm history . --branch main"],
  ).action(lazy(() => import("./commands/history.js"), "historyCommand"));

  examples(
    connectionOptions(
      program
        .command("events")
        .description("tail analysis events (JSON lines); --since first prints what the EVENTS stream kept, each event once")
        .argument("[pattern]", "subject pattern", "repo.analysis.>")
        .addOption(parsedOption("--since <when>", "also the stored events since then: a duration back (90s, 10m, 1.5h, 1d) or a date", since)),
    ),
    ["farm events", "farm events 'repo.analysis.completed'", "farm events --since 1h 'repo.analysis.failed'"],
  ).action(lazy(() => import("./commands/events.js"), "eventsCommand"));

  examples(
    connectionOptions(
      program
        .command("status")
        .description("is the farm healthy, how far behind: queues, dead letters, live instances, analyses in flight; exit 1 when unhealthy")
        .option("--json", "print the snapshot as JSON (with --watch: one JSON object per line)")
        .option("--watch", "take a snapshot every --interval until Ctrl-C / SIGTERM: redrawn on a terminal, appended otherwise")
        .addOption(
          parsedOption("--interval <duration>", "between --watch snapshots: seconds or a duration, at least 0.5s", duration(INTERVAL)).default(
            ...durationDefault("2", INTERVAL),
          ),
        )
        .addOption(parsedOption("--expect <service...>", "require a live instance of these services too (e.g. web), besides the pipeline's four", serviceName))
        .addOption(
          parsedOption(
            "--dlq-window <duration>",
            "the DLQ grew: dead letters stored within this window (with --watch: since the watch began)",
            duration(),
          ).default(...durationDefault("15m")),
        )
        .addOption(
          parsedOption("--in-flight-window <duration>", "analyses started within this window and not finished count as in flight", duration()).default(
            ...durationDefault("6h"),
          ),
        ),
    ),
    [
      "farm status",
      "farm status --json | jq '.problems'",
      "farm status --watch",
      "farm status --watch --json --interval 10 >> status.ndjson",
      "farm status --expect web",
    ],
  ).action(lazy(() => import("./commands/status.js"), "statusCommand"));

  const dlq = examples(program.command("dlq").description("the dead-letter stream: work that failed for good, with its reason"), [
    "farm dlq ls",
    "farm dlq ls --json",
    "farm replay --seq 4 7",
  ]);
  examples(connectionOptions(dlq.command("ls").description("list dead-lettered work with its reason").option("--json", "print JSON")), [
    "farm dlq ls",
    "farm dlq ls --json | jq '.[] | {seq, reason}'",
  ]).action(lazy(() => import("./commands/dlq.js"), "dlqListCommand"));

  examples(
    connectionOptions(
      program
        .command("replay")
        .description("republish dead-lettered work on its original subject")
        .option("--all", "replay every entry")
        .addOption(parsedOption("--seq <n...>", "replay these dead-letter sequence numbers", count(1)))
        .option("--json", "print JSON"),
    ),
    ["farm replay --all", "farm replay --seq 4 7"],
  ).action(lazy(() => import("./commands/replay.js"), "replayCommand"));

  return program;
}

async function main() {
  const program = buildProgram();
  void whenStdoutClosed();
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    // The reader went away (`farm … | head`): nothing more to say, and nothing wrong.
    if (isOutputClosed(err)) return;
    if (err instanceof CommanderError) {
      process.exitCode = err.exitCode === 0 ? 0 : 2;
      return;
    }
    // One line, no stack: the message says what was wrong and what to do.
    const { errorLine, exitCodeOf } = await import("./context.js");
    process.stderr.write(`farm: ${errorLine(err)}\n`);
    process.exitCode = exitCodeOf(err);
  }
}

await main();
