/**
 * What a resolution could not read faithfully, said once each, and bounded:
 * a config that names 10,000 missing packages yields a few notes and a count.
 */
/** An error's first line, short enough for a note. */
export function reason(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split("\n")[0].slice(0, 200);
}

export class Notes {
  private readonly kept = new Set<string>();
  private dropped = 0;

  constructor(private readonly max: number) {}

  add(note: string): void {
    if (this.kept.has(note)) return;
    if (this.kept.size < this.max) this.kept.add(note);
    else this.dropped++;
  }

  list(): string[] {
    const out = [...this.kept];
    if (this.dropped > 0) out.push(`${this.dropped} more notes left out`);
    return out;
  }
}
