/** Progress of an analysis: a bar on a terminal, plain lines otherwise. */
import { SingleBar, Presets } from "cli-progress";
import type { SplitStats } from "../shared/pipeline/contract.js";

type Stats = Pick<SplitStats, "cacheHits" | "queued">;

export class Progress {
  private bar?: SingleBar;
  private total = 0;
  private done = 0;
  private linted = 0;
  private hits = 0;
  private startedAt = Date.now();
  private lastLine = 0;

  constructor(private readonly out: NodeJS.WriteStream) {}

  start(total: number): void {
    this.total = total;
    this.startedAt = Date.now();
    if (this.out.isTTY) {
      this.bar = new SingleBar(
        {
          stream: this.out,
          format: "analyzing [{bar}] {value}/{total} commits | {linted} files linted | {hits} cache hits | {rate} commits/s | ETA {eta_formatted}",
          hideCursor: true,
        },
        Presets.shades_classic,
      );
      this.bar.start(total, 0, this.payload());
    } else {
      this.out.write(`analyzing ${total} commits\n`);
    }
  }

  /** Work done for the analysis that is not one of its commits (the parent analyzed for the first delta). */
  counted(stats?: Stats): void {
    this.linted += stats?.queued ?? 0;
    this.hits += stats?.cacheHits ?? 0;
  }

  commitDone(stats?: Stats): void {
    this.done++;
    this.counted(stats);
    if (this.bar) return this.bar.update(this.done, this.payload());
    const now = Date.now();
    if (now - this.lastLine >= 2000 || this.done === this.total) {
      this.lastLine = now;
      const p = this.payload();
      this.out.write(`${this.done}/${this.total} commits, ${p.linted} files linted, ${p.hits} cache hits, ${p.rate} commits/s\n`);
    }
  }

  stop(): void {
    this.bar?.stop();
  }

  private payload() {
    const secs = Math.max(0.001, (Date.now() - this.startedAt) / 1000);
    return { linted: this.linted, hits: this.hits, rate: (this.done / secs).toFixed(1) };
  }
}
