/**
 * The record of a running `farm up` in its data dir (`<dataDir>/up.json`):
 * how the other commands on that data dir find the cluster without NATS_URL.
 * Written once farm up is ready, removed on its clean stop; a record whose pid
 * is gone (farm up was SIGKILLed) is stale and read as no record at all.
 */
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { alive } from "./embedded.js";

export interface LocalFarm {
  /** Where clients connect, e.g. nats://127.0.0.1:4222. */
  url: string;
  /** The `farm up` process: the record is live while it runs. */
  pid: number;
  /** ISO 8601 time farm up became ready. */
  startedAt: string;
}

export const LOCAL_FARM_FILE = "up.json";

export function localFarmFile(dataDir: string): string {
  return path.join(dataDir, LOCAL_FARM_FILE);
}

/** Records this process as the data dir's running farm up. Atomic: a reader sees the old record or the whole new one. */
export function writeLocalFarm(dataDir: string, url: string): LocalFarm {
  const record: LocalFarm = { url, pid: process.pid, startedAt: new Date().toISOString() };
  mkdirSync(dataDir, { recursive: true });
  const file = localFarmFile(dataDir);
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, JSON.stringify(record) + "\n");
  renameSync(tmp, file);
  return record;
}

/** The data dir's running farm up, or undefined: no record, an unreadable one, or a stale one (its pid is gone). */
export function findLocalFarm(dataDir: string): LocalFarm | undefined {
  let record: Partial<LocalFarm>;
  try {
    record = JSON.parse(readFileSync(localFarmFile(dataDir), "utf8")) as Partial<LocalFarm>;
  } catch {
    // No record, or a half-written one: no local farm to join.
    return undefined;
  }
  if (typeof record?.url !== "string" || !Number.isInteger(record.pid) || record.pid! <= 0) return undefined;
  // A stale record is left in place: removing it could race with a new farm up writing its own.
  return alive(record.pid!) ? (record as LocalFarm) : undefined;
}

/** Removes the record if it is `pid`'s (default: this process's), never a newer farm up's. */
export function removeLocalFarm(dataDir: string, pid = process.pid): void {
  const file = localFarmFile(dataDir);
  try {
    if ((JSON.parse(readFileSync(file, "utf8")) as Partial<LocalFarm> | null)?.pid !== pid) return;
  } catch {
    // No record, or not readable: nothing of ours to remove.
    return;
  }
  rmSync(file, { force: true });
}
