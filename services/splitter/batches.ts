/**
 * Packing the files to lint into batches for the linter-runners: bounded by
 * file count, content bytes and encoded message size, configs by reference;
 * each batch with an id made of its files, so that one queued twice is dropped.
 */
import { createHash } from "node:crypto";
import type { FileRef, LintBatch, ManifestEntry } from "../../shared/pipeline/contract.js";
import { messageIds, objectNames } from "../../shared/pipeline/names.js";
import { settingsOf } from "../../shared/pipeline/toolchain-settings.js";

/** Default {@link BatchOptions.batchFiles}. */
export const DEFAULT_BATCH_FILES = 64;
/** Default {@link BatchOptions.batchBytes}. */
export const DEFAULT_BATCH_BYTES = 4 * 1024 * 1024;
/** Default {@link BatchOptions.batchMessageBytes}. */
export const DEFAULT_BATCH_MESSAGE_BYTES = 256 * 1024;

export interface BatchOptions {
  /** Files per batch. Default DEFAULT_BATCH_FILES. */
  batchFiles?: number;
  /** Content bytes per batch (the runner fetches them). Default DEFAULT_BATCH_BYTES (4 MiB). */
  batchBytes?: number;
  /**
   * Encoded bytes of one batch message. Default DEFAULT_BATCH_MESSAGE_BYTES
   * (256 KiB), and never more than half the server's max_payload: a batch
   * must fit one message.
   */
  batchMessageBytes?: number;
}

/** Batches of `refs` (sizes from `byPath`), in order; `maxPayload` is the server's. */
export function pack(refs: readonly FileRef[], byPath: ReadonlyMap<string, ManifestEntry>, o: BatchOptions, maxPayload: number): LintBatch[] {
  const maxFiles = o.batchFiles ?? DEFAULT_BATCH_FILES;
  const maxBytes = o.batchBytes ?? DEFAULT_BATCH_BYTES;
  const maxMessage = Math.min(o.batchMessageBytes ?? DEFAULT_BATCH_MESSAGE_BYTES, Math.floor(maxPayload / 2));
  const batches: LintBatch[] = [];
  let files: FileRef[] = [];
  let settings: Record<string, string> = {};
  let bytes = 0;
  let encoded = 0;
  const flush = () => {
    if (files.length === 0) return;
    batches.push({ settings, files });
    files = [];
    settings = {};
    bytes = 0;
    encoded = 0;
  };
  for (const r of refs) {
    const size = byPath.get(r.path)!.size;
    const file: FileRef = { path: r.path, blob: r.blob, configId: r.configId };
    const cost = () => encodedSize(file) + (r.configId in settings ? 0 : settingSize(r.configId));
    if (files.length > 0 && (files.length >= maxFiles || bytes + size > maxBytes || encoded + cost() > maxMessage)) flush();
    encoded += cost();
    settings[r.configId] = objectNames.lintConfig(settingsOf(r.configId) ?? r.configId);
    files.push(file);
    bytes += size;
  }
  flush();
  return batches;
}

/** Same files → same id: the stream drops a batch queued twice inside its duplicate window. */
export function batchId(b: LintBatch): string {
  const h = createHash("sha256");
  for (const f of b.files) h.update(`${f.blob}.${f.configId}\n`);
  return messageIds.lintBatch(h.digest("hex").slice(0, 32));
}

/** Upper bound of a file's share of the msgpack batch: its three strings plus keys and headers. */
function encodedSize(f: FileRef): number {
  return Buffer.byteLength(f.path) + Buffer.byteLength(f.blob) + Buffer.byteLength(f.configId) + 32;
}

/** Upper bound of one `settings` entry (config id → object name). */
function settingSize(configId: string): number {
  return 2 * Buffer.byteLength(objectNames.lintConfig(configId)) + 16;
}
