/**
 * The work queues a farm knows: each a JetStream work-queue stream. A library
 * user declares its own beside farm's (`Farm.connect({ queues })`); farm's
 * pipeline is one user of this registry (shared/pipeline/names.ts `farmQueues`).
 */
import { ErrorCodes, FarmError } from "./errors.js";

/** Prefix of queued subjects: keeps request-reply subjects out of the streams. */
export const QUEUE_PREFIX = "q.";

export interface QueueSpec {
  /** The work-queue stream's name, e.g. "ORDERS". */
  stream: string;
  /**
   * Logical subjects (wildcards allowed) whose distributed tasks this stream
   * holds; they travel on `q.<subject>`, so the same name can serve
   * request-reply without the stream answering it.
   */
  subjects?: string[];
  /** Subjects clients publish to directly, captured as they are (e.g. `repo.new_sha`). */
  ingress?: string[];
  /**
   * Subjects (concrete, no wildcards) whose tasks are shared out fairly: a
   * task travels on `q.<subject>.<lane>.<tenant>` and workers serve the
   * interactive lane first, backfill a guaranteed share, and tenants within a
   * lane by cost (shared/fabric/fair.ts).
   */
  fair?: string[];
}

const STREAM_NAME = /^[A-Za-z0-9_-]+$/;

/** The stream's own subjects: queued ones with their prefix, ingress ones as they are, fair ones' lanes unless a queued one covers them. */
export function streamSubjects(spec: QueueSpec): string[] {
  const queued = (spec.subjects ?? []).map((s) => QUEUE_PREFIX + s);
  const fair = (spec.fair ?? []).map((s) => `${QUEUE_PREFIX}${s}.>`).filter((f) => !queued.some((q) => subjectMatches(q, f.replace(/>$/, "lane.tenant"))));
  return [...queued, ...fair, ...(spec.ingress ?? [])];
}

/** NATS subject match: `*` one token, `>` the rest. */
export function subjectMatches(pattern: string, subject: string): boolean {
  const p = pattern.split(".");
  const s = subject.split(".");
  for (let i = 0; i < p.length; i++) {
    if (p[i] === ">") return s.length > i;
    if (i >= s.length) return false;
    if (p[i] !== "*" && p[i] !== s[i]) return false;
  }
  return p.length === s.length;
}

export class Queues {
  private readonly specs: QueueSpec[] = [];
  private readonly ingress = new Set<string>();
  private readonly fair = new Set<string>();

  constructor(specs: readonly QueueSpec[] = []) {
    this.declare(...specs);
  }

  /** Adds queues; refuses a stream name or subject that another queue already has. */
  declare(...specs: QueueSpec[]): this {
    for (const spec of specs) {
      if (!STREAM_NAME.test(spec.stream)) throw new FarmError(`queue stream name "${spec.stream}" must be letters, digits, "_" or "-"`, ErrorCodes.Topology);
      if (this.specs.some((q) => q.stream === spec.stream)) throw new FarmError(`a queue named "${spec.stream}" is declared already`, ErrorCodes.Topology);
      const own = streamSubjects(spec);
      if (own.length === 0) throw new FarmError(`queue "${spec.stream}" captures no subject: give it subjects or ingress`, ErrorCodes.Topology);
      const taken = own.find((s) => this.specs.some((q) => streamSubjects(q).includes(s)));
      if (taken) throw new FarmError(`subject "${taken}" of queue "${spec.stream}" belongs to another queue`, ErrorCodes.Topology);
      const wild = (spec.fair ?? []).find((s) => /[*>]/.test(s));
      if (wild) throw new FarmError(`fair subject "${wild}" of queue "${spec.stream}" must be concrete (no wildcards)`, ErrorCodes.Topology);
      this.specs.push({ ...spec });
      for (const s of spec.ingress ?? []) this.ingress.add(s);
      for (const s of spec.fair ?? []) this.fair.add(s);
    }
    return this;
  }

  list(): readonly QueueSpec[] {
    return this.specs;
  }

  isIngress(subject: string): boolean {
    return this.ingress.has(subject);
  }

  /** Tasks of `subject` are shared out by lane and tenant (QueueSpec.fair). */
  isFair(subject: string): boolean {
    return this.fair.has(subject);
  }

  /** The subject a task for `subject` travels on when it is distributed. */
  wireSubject(subject: string): string {
    return this.isIngress(subject) ? subject : QUEUE_PREFIX + subject;
  }

  /** The stream that captures a wire subject, or undefined. */
  streamFor(wire: string): string | undefined {
    return this.specs.find((q) => streamSubjects(q).some((p) => subjectMatches(p, wire)))?.stream;
  }

  /** The wire subject of `subject`, refused when no declared queue captures it. */
  queuedOn(subject: string): { wire: string; stream: string } {
    const wire = this.wireSubject(subject);
    // A fair subject's tasks travel one level down, by lane and tenant (fair.ts).
    const stream = this.streamFor(this.isFair(subject) ? `${wire}.lane.tenant` : wire);
    if (!stream) {
      throw new FarmError(
        `no work queue captures "${wire}": declare one, e.g. Farm.connect({ queues: [{ stream: "MINE", subjects: ["${subject}"] }] })`,
        ErrorCodes.Topology,
      );
    }
    return { wire, stream };
  }
}
