/**
 * The grammars of farm's settings, one for each kind of value, shared by the
 * environment (config.ts) and the command line's flags (cli/options.ts): a
 * count, a port, a duration, a switch. Each refusal names the setting, says
 * what it takes and what it got.
 */

/** A value its grammar refuses; the command line turns it into a usage error (exit 2). */
export class InvalidSettingError extends Error {
  constructor(name: string, takes: string, value: string) {
    super(`${name} must be ${takes}, got "${value}"`);
    this.name = "InvalidSettingError";
  }
}

/** One of `choices`, as written. */
export function parseChoice<C extends string>(name: string, value: string, choices: readonly C[]): C {
  if (!(choices as readonly string[]).includes(value)) throw new InvalidSettingError(name, `one of ${choices.join(", ")}`, value);
  return value as C;
}

/** An integer of decimal digits, at least `min`. */
export function parseCount(name: string, value: string, min = 0): number {
  const n = /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min) throw new InvalidSettingError(name, `an integer >= ${min}`, value);
  return n;
}

/** A fraction from 0 to 1 ("0.2"). */
export function parseShare(name: string, value: string): number {
  const n = /^\s*(0|1|0?\.\d+|1\.0*)\s*$/.test(value) ? Number(value) : NaN;
  if (!(n >= 0 && n <= 1)) throw new InvalidSettingError(name, "a number from 0 to 1", value);
  return n;
}

export interface PortRule {
  /**
   * Whether 0, any free port, may be asked for. Only where the process says
   * which port it got: the web app (its ready line, `--web`'s url) and the
   * metrics server (its "metrics listening" log line). Never for a port other
   * processes are told to use without asking it, like `farm up --port`.
   */
  anyFree: boolean;
}

/** A TCP port to listen on: 1-65535, or 0 (any free one) where `rule.anyFree`. */
export function parsePort(name: string, value: string, rule: PortRule): number {
  const lowest = rule.anyFree ? 0 : 1;
  const n = /^\d+$/.test(value.trim()) ? Number(value) : NaN;
  if (!(n >= lowest && n <= 65535)) throw new InvalidSettingError(name, `an integer from ${rule.anyFree ? "0 (any free one)" : "1"} to 65535`, value);
  return n;
}

const UNIT_MS = { ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 } as const;
type Unit = keyof typeof UNIT_MS;
const NUMBER = String.raw`(\d+(?:\.\d*)?|\.\d+)`;
const DURATION_RE = new RegExp(`^${NUMBER}(ms|s|m|h|d)$`);
const SECONDS_RE = new RegExp(`^${NUMBER}$`);

/** How a refusal describes the duration grammar. */
export const DURATION_EXAMPLES = "90s, 10m, 1.5h, 1d";

export interface DurationRule {
  /** A bare number is seconds (settings whose unit always was the second: `--interval`, `--timeout`). Default false. */
  bareSeconds?: boolean;
  /** The shortest accepted, in ms. Default: anything above 0. */
  minMs?: number;
}

/** The one duration grammar: a number and a unit, ms, s, m, h or d (90s, 10m, 1.5h, 1d); in ms. */
export function parseDuration(name: string, value: string, rule: DurationRule = {}): number {
  const ms = durationMs(value, rule.bareSeconds ?? false);
  const takes = rule.bareSeconds ? `seconds or a duration such as 2, 0.5, ${DURATION_EXAMPLES}` : `a duration such as ${DURATION_EXAMPLES}`;
  if (!(ms > 0)) throw new InvalidSettingError(name, takes, value);
  if (rule.minMs !== undefined && ms < rule.minMs) throw new InvalidSettingError(name, `at least ${formatDuration(rule.minMs)}`, value);
  return ms;
}

/** The duration `value` says in ms; NaN when it says none. */
function durationMs(value: string, bareSeconds: boolean): number {
  const v = value.trim();
  const d = DURATION_RE.exec(v);
  if (d) return Number(d[1]) * UNIT_MS[d[2] as Unit];
  return bareSeconds && SECONDS_RE.test(v) ? Number(v) * 1000 : NaN;
}

/** A moment: a duration back from `now` (the duration grammar: 90s, 1.5h) or a date `Date.parse` reads. */
export function parseSince(name: string, value: string, now = Date.now()): Date {
  const ms = durationMs(value, false);
  if (ms > 0) return new Date(now - ms);
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new InvalidSettingError(name, `a duration such as ${DURATION_EXAMPLES}, or a date`, value);
  return new Date(t);
}

/** A duration in the largest unit that says it whole: 15m, 90m, 1d, 500ms. */
export function formatDuration(ms: number): string {
  const units = (Object.keys(UNIT_MS) as Unit[]).reverse();
  const unit = units.find((u) => ms % UNIT_MS[u] === 0) ?? "ms";
  return `${ms / UNIT_MS[unit]}${unit}`;
}

const ON = /^(1|true|yes|on)$/i;
const OFF = /^(0|false|no|off|)$/i;

/** A switch: 1, true, yes, on, or 0, false, no, off (any case); unset or empty is off. */
export function parseSwitch(name: string, value: string | undefined): boolean {
  if (value === undefined || OFF.test(value.trim())) return false;
  if (ON.test(value.trim())) return true;
  throw new InvalidSettingError(name, "1, true, yes, on or 0, false, no, off", value);
}
