/**
 * JSON logs with pino; human-readable only when asked (FARM_LOG_PRETTY).
 * Every line passes through redactUrl on its way out: a url's credentials
 * (`https://user:token@`, `?access_token=`) never reach a log, whichever
 * service or library put them in a message.
 */
import { pino, type DestinationStream, type Logger } from "pino";
import { redactUrl } from "./redact.js";

export type { Logger };

export interface LoggerOptions {
  /** Default "info". */
  level?: string;
  /** pino-pretty on stderr instead of JSON. Default false. */
  pretty?: boolean;
  name?: string;
  /** Where JSON lines go (tests capture them here). Default stderr. Ignored with `pretty`. */
  destination?: DestinationStream;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const options = { level: opts.level ?? "info", name: opts.name, base: { pid: process.pid } };
  const out = opts.pretty ? pino.transport({ target: "pino-pretty", options: { destination: 2 } }) : (opts.destination ?? pino.destination(2));
  return pino(options, redacting(out));
}

/** `dest` with credentials taken out of every line (one regex pass per line: logs are not a hot path). */
function redacting(dest: DestinationStream & { flushSync?: () => void; flush?: (cb?: (err?: Error) => void) => void; end?: () => void }): DestinationStream {
  return {
    write: (line: string) => dest.write(line.includes("://") || line.includes("=") ? redactUrl(line) : line),
    // pino.final and logger.flush() look for these on the stream they were given.
    ...(dest.flushSync ? { flushSync: () => dest.flushSync!() } : {}),
    ...(dest.flush ? { flush: (cb?: (err?: Error) => void) => dest.flush!(cb) } : {}),
    ...(dest.end ? { end: () => dest.end!() } : {}),
  };
}
