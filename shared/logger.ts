/** JSON logs with pino; human-readable only when asked (FARM_LOG_PRETTY). */
import { pino, type Logger } from "pino";

export type { Logger };

export interface LoggerOptions {
  level?: string;
  pretty?: boolean;
  name?: string;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const transport = opts.pretty ? { target: "pino-pretty", options: { destination: 2 } } : undefined;
  return pino({ level: opts.level ?? "info", name: opts.name, base: { pid: process.pid }, transport }, transport ? undefined : pino.destination(2));
}
